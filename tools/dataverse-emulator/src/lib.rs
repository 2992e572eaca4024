//! dataverse-emulator (work in progress)
