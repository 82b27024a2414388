//! The networks OCM's accounts may work from (the operator's `BMMS_OCM_ALLOWED_NETWORKS`):
//! OCM sees every organization's totals, so an operator may keep those accounts to the
//! office network and its VPN. Checked at sign-in and on every request of such a session,
//! against the client address (behind a trusted proxy, the one it forwards). Unset: any
//! network.

use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedNetworks(Vec<IpNet>);

impl AllowedNetworks {
    /// No network is listed: any address may be used.
    pub fn is_open(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` may be used (always, when no network is listed).
    pub fn permit(&self, address: IpAddr) -> bool {
        // An IPv4 client reached over an IPv6 socket arrives as ::ffff:a.b.c.d.
        let address = address.to_canonical();
        self.0.is_empty() || self.0.iter().any(|network| network.contains(&address))
    }
}

/// A network that does not read.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a network: write one as an address with its prefix length (10.20.0.0/16, 2001:db8::/32) or a single address")]
pub struct NotANetwork(String);

impl FromStr for AllowedNetworks {
    type Err = NotANetwork;

    /// Networks separated by commas; a bare address is a network of one.
    fn from_str(text: &str) -> Result<Self, NotANetwork> {
        let networks = text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| NotANetwork(part.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(AllowedNetworks(networks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_inside_a_listed_network_pass_and_others_do_not() {
        let allowed: AllowedNetworks = "10.20.0.0/16, 203.0.113.7, 2001:db8::/32".parse().unwrap();
        for inside in ["10.20.3.4", "203.0.113.7", "2001:db8::1", "::ffff:10.20.0.9"] {
            assert!(allowed.permit(inside.parse().unwrap()), "{inside}");
        }
        for outside in ["10.21.0.1", "203.0.113.8", "192.0.2.1", "2001:db9::1"] {
            assert!(!allowed.permit(outside.parse().unwrap()), "{outside}");
        }
        assert!(AllowedNetworks::default().permit("192.0.2.1".parse().unwrap()), "no list: any network");
        assert!("".parse::<AllowedNetworks>().unwrap().permit("192.0.2.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<AllowedNetworks>().is_err());
        assert!("office".parse::<AllowedNetworks>().is_err());
    }
}
