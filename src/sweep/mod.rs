//! Training a sweep on one machine: the variants still to train (`queue`), the thread budget
//! (`budget`), what the sweep will cost (`cost`), data and caches prepared once (`prepare`), one process training variants one
//! after another (`serial`: `--jobs 1`, and every worker; with `[prune]`, rung by rung:
//! `rungwise`, each rung judged once the variants left out of the command reached it too:
//! `absent`), worker processes side by side
//! (`pool`: `--jobs N`), what a worker is handed and how it notices its parent's end
//! (`worker`), what they print (`output`), how it all went (`tally`), and what a `[prune]`
//! rule would have done to a sweep already trained (`replay`), and over other arrival orders
//! (`replay_orders`).

pub mod absent;
pub mod budget;
pub mod cost;
pub mod output;
pub mod pool;
pub mod prepare;
pub mod queue;
pub mod replay;
pub mod replay_orders;
pub mod rungwise;
pub mod same_data;
pub mod serial;
pub mod tally;
pub mod worker;
