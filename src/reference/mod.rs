//! The f64 reference: every training computation as plain f64 loops, the source of truth the WGSL
//! kernels and the CPU engine's ops are checked against. Each layer is a forward/backward pair of functions.
//!
//! - [`lstm`]: one LSTM layer over a time-major sequence, and its BPTT backward.
//! - [`dense`]: linear layer.
//! - [`dropout`]: inverted-dropout masks from the shared RNG.
//! - [`loss`]: mean squared error and its gradient.
//! - [`adam`]: the Keras 3 Adam update.
//! - [`network`]: the whole stack of a [`crate::model::ParamLayout`], forward and backward.
//! - [`train_loop`]: Keras `model.fit` with early stopping, and `predict`.

pub mod adam;
pub mod dense;
pub mod dropout;
pub mod loss;
pub mod lstm;
pub mod network;
pub mod train_loop;
