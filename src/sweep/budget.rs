//! The thread budget and the device slots of a sweep. libtorch's CPU threads spin while they
//! wait, so more threads than the cores allowed is catastrophic, not proportional (2 cores
//! shared with one other runner: about 380 -> 40 images/s). Workers split the cores.

use tch::Device;

/// libtorch threads for one variant: `--threads`, else `train.threads` when set (> 0), else
/// the budget (`cores / workers`, at least 1).
pub fn threads(cli: Option<u32>, train_threads: u32, budget: usize) -> usize {
    match cli {
        Some(n) => n as usize,
        None if train_threads > 0 => train_threads as usize,
        None => budget.max(1),
    }
}

/// Each worker's share of `cores`: at least 1 thread.
pub fn share(cores: usize, workers: usize) -> usize {
    (cores / workers.max(1)).max(1)
}

/// One device per worker slot: `jobs` workers on each device, interleaved so that a sweep
/// with fewer variants than slots still spreads over every device.
pub fn slots(devices: &[Device], jobs: usize) -> Vec<Device> {
    (0..jobs).flat_map(|_| devices.iter().copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_then_setting_then_budget() {
        assert_eq!(threads(Some(3), 2, 8), 3);
        assert_eq!(threads(None, 2, 8), 2);
        assert_eq!(threads(None, 0, 8), 8);
        assert_eq!(threads(None, 0, 0), 1);
    }

    #[test]
    fn cores_are_split_and_never_zero() {
        assert_eq!(share(2, 1), 2);
        assert_eq!(share(2, 2), 1);
        assert_eq!(share(16, 3), 5);
        assert_eq!(
            share(2, 4),
            1,
            "oversubscribed by workers, never by threads"
        );
    }

    #[test]
    fn slots_interleave_devices() {
        let s = slots(&[Device::Cuda(0), Device::Cuda(1)], 2);
        assert_eq!(
            s,
            [
                Device::Cuda(0),
                Device::Cuda(1),
                Device::Cuda(0),
                Device::Cuda(1)
            ]
        );
        assert_eq!(slots(&[Device::Cpu], 3), [Device::Cpu; 3]);
    }
}
