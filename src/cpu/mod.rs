//! The CPU engine: the training of the f64 [`crate::reference`] in f32, built like the GPU engine — the
//! input projection of a whole sequence as one product, the recurrence and BPTT as small
//! register-blocked products per time step with the gate activations and cell update fused, the weight
//! gradients of all time steps as one product — with SIMD kernels chosen at run time ([`simd`]) and
//! every core busy (rayon over models). Nothing is allocated inside an epoch.

pub mod adam;
pub mod check;
pub mod dense;
pub mod dropout;
pub mod loss;
pub mod lstm;
pub mod math;
pub mod matmul;
pub mod network;
pub mod simd;
pub mod train_loop;
pub mod yardstick;
