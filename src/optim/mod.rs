//! Optimisers whose state can be checkpointed (tch's `nn::Optimizer` cannot export its moments).

mod adam;

pub use adam::Adam;
