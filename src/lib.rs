//! anigan-runner: a batch runner for GAN experiments on anime faces.
//! ARCHITECTURE.md maps the modules and how data flows through them.

mod allocator;
pub mod checkpoint;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod digits;
pub mod eval;
pub mod exit;
pub mod fsx;
pub mod health;
pub mod model;
pub mod optim;
pub mod progress;
pub mod prune;
pub mod report;
pub mod results;
pub mod shim;
pub mod slurm;
pub mod stop;
pub mod sweep;
pub mod synth;
pub mod tensorboard;
pub mod textfile;
pub mod train;
