//! testkit (work in progress)
