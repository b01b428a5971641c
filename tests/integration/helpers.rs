//! What the tests of several areas share on top of the harness (`crate::common`).
