//! Proxmox VE API client (being written).
