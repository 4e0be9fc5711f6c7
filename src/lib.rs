//! anigan-runner: a batch runner for GAN experiments on anime faces.
//! ARCHITECTURE.md maps the modules and how data flows through them.

pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod fsx;
pub mod health;
