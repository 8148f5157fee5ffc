//! Commands beyond `check` and `replay`, one module each.

pub mod explain;
pub mod new;
pub mod test;
