//! The model description: layer spec (`--layers`), flat parameter layout, seeded initialisation.
//!
//! - [`spec`]: parse and validate the layer list.
//! - [`params`]: where each Keras-named tensor lives in the flat parameter vector.
//! - [`init`]: Keras-default initial weights drawn from the shared counter-based RNG.

pub mod init;
pub mod params;
pub mod spec;

pub use init::init_params;
pub use params::{LayerPlan, ParamLayout, TensorSlot};
pub use spec::{LayerSpec, ModelSpec, SpecError, DEFAULT_LAYERS, MAX_UNITS};
