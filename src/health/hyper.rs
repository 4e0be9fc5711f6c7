//! The settings a rollback may change: read by the detector (what an epoch trained with), set
//! by the policy.

/// A learning rate under this is far below the usual range (DCGAN's 2e-4, 20x less): a run
/// that stalls with it is told to raise it. Never changed by a rollback: a rollback only slows.
pub const LR_MIN: f64 = 1e-5;

/// The settings a rollback may change, as one epoch trained with them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hyper {
    /// G's Adam learning rate.
    pub lr_g: f64,
    /// D's Adam learning rate.
    pub lr_d: f64,
    /// D's label noise: targets `1 - U(0, n)` for real images and `U(0, n)` for fakes.
    pub label_noise: f64,
    pub batch_size: u32,
}

impl Hyper {
    /// Each setting with its key in an experiment file (`train.lr_g`), in the struct's order.
    pub fn by_key(&self) -> [(&'static str, f64); 4] {
        [
            ("train.lr_g", self.lr_g),
            ("train.lr_d", self.lr_d),
            ("train.label_noise", self.label_noise),
            ("train.batch_size", f64::from(self.batch_size)),
        ]
    }
}
