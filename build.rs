//! Rebuild the binary whenever the embedded knowledge base or schema changes,
//! since both are compiled in with `include_str!`.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=db");
}
