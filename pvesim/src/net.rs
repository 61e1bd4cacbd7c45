//! Container networking helpers: MACs, link-local addresses, the loopback address pool.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use rand::Rng;

use crate::config::IpPool;

/// A random MAC with Proxmox's OUI `BC:24:11`, uppercase as PVE writes it into the config.
pub fn random_mac() -> String {
    let mut rng = rand::thread_rng();
    let b: [u8; 3] = rng.r#gen();
    format!("BC:24:11:{:02X}:{:02X}:{:02X}", b[0], b[1], b[2])
}

/// The EUI-64 link-local address of a MAC (`fe80::be24:11ff:fe5e:7a10`).
pub fn link_local(mac: &str) -> Option<Ipv6Addr> {
    let bytes: Vec<u8> = mac
        .split(':')
        .map(|h| u8::from_str_radix(h, 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let [a, b, c, d, e, f] = <[u8; 6]>::try_from(bytes).ok()?;
    let word = |hi: u8, lo: u8| (u16::from(hi) << 8) | u16::from(lo);
    Some(Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        word(a ^ 0x02, b),
        word(c, 0xff),
        word(0xfe, d),
        word(e, f),
    ))
}

/// `a.b.c.d/len` → address and prefix length.
pub fn parse_cidr_v4(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (ip, len) = s.split_once('/')?;
    Some((ip.parse().ok()?, len.parse().ok().filter(|l| *l <= 32)?))
}

/// The first free host address of the pool (skipping the network address and 127.0.0.1).
pub fn pool_address(pool: IpPool, used: &HashSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let base = u32::from(pool.base) & (u32::MAX << (32 - u32::from(pool.prefix)));
    let size = 1u32 << (32 - u32::from(pool.prefix));
    (2..size - 1)
        .map(|offset| Ipv4Addr::from(base + offset))
        .find(|ip| *ip != Ipv4Addr::LOCALHOST && !used.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_local_matches_fixture() {
        assert_eq!(
            link_local("BC:24:11:5E:7A:10").expect("mac").to_string(),
            "fe80::be24:11ff:fe5e:7a10"
        );
    }

    #[test]
    fn pool_skips_used() {
        let pool = IpPool {
            base: Ipv4Addr::new(127, 77, 3, 0),
            prefix: 24,
        };
        let first = pool_address(pool, &HashSet::new()).expect("free");
        assert_eq!(first, Ipv4Addr::new(127, 77, 3, 2));
        let used = HashSet::from([first]);
        assert_eq!(
            pool_address(pool, &used),
            Some(Ipv4Addr::new(127, 77, 3, 3))
        );
    }
}
