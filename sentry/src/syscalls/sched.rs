//! Scheduling and accounting: nothing served yet.

use super::Registration;

pub const HANDLERS: &[Registration] = &[];
