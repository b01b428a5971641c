//! The migrations are built into the binary (`embed_migrations!`); a new or changed
//! migration must rebuild it, which Cargo cannot tell from the Rust sources alone.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
