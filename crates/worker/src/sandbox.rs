//! The worker's sandbox. STUB until the sandbox branch lands.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Limits {
    pub memory_bytes: u64,
    pub cpu_secs: u64,
    pub open_files: u64,
    pub file_size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub rlimits: bool,
    pub no_new_privs: bool,
    pub seccomp: bool,
    pub landlock: u32,
    pub uid: u32,
    pub gid: u32,
}

impl Applied {
    pub fn shortfalls(&self) -> Vec<String> {
        vec!["stub".into()]
    }
}

pub fn apply(_limits: &Limits) -> Applied {
    Applied { rlimits: false, no_new_privs: false, seccomp: false, landlock: 0, uid: 0, gid: 0 }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub read_etc_passwd: Result<(), String>,
}

pub fn probe() -> Probe {
    Probe { read_etc_passwd: std::fs::read("/etc/passwd").map(|_| ()).map_err(|e| e.to_string()) }
}

impl Probe {
    pub fn escapes(&self) -> Vec<String> {
        Vec::new()
    }
}

pub fn user_ids(_name: &str) -> Result<(u32, u32), String> {
    Ok((65534, 65534))
}
