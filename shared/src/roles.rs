//! Roles and organization kinds. Their string forms are stored in PostgreSQL and sent
//! over the API, so they never change once released.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a member of an organization may do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    FieldOfficer,
    Supervisor,
    MinistryStaff,
    OrgAdmin,
    OcmExecutive,
    OcmAnalyst,
    BpdaPlanner,
    MfbmBudgetOfficer,
    SystemAdmin,
}

impl Role {
    /// Every role, in the order the admin tools list them.
    pub const ALL: [Role; 9] = [
        Role::FieldOfficer,
        Role::Supervisor,
        Role::MinistryStaff,
        Role::OrgAdmin,
        Role::OcmExecutive,
        Role::OcmAnalyst,
        Role::BpdaPlanner,
        Role::MfbmBudgetOfficer,
        Role::SystemAdmin,
    ];

    /// The stored and transmitted name, e.g. `field_officer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FieldOfficer => "field_officer",
            Role::Supervisor => "supervisor",
            Role::MinistryStaff => "ministry_staff",
            Role::OrgAdmin => "org_admin",
            Role::OcmExecutive => "ocm_executive",
            Role::OcmAnalyst => "ocm_analyst",
            Role::BpdaPlanner => "bpda_planner",
            Role::MfbmBudgetOfficer => "mfbm_budget_officer",
            Role::SystemAdmin => "system_admin",
        }
    }

    /// A label for people, e.g. "Field officer".
    pub fn label(self) -> &'static str {
        match self {
            Role::FieldOfficer => "Field officer",
            Role::Supervisor => "Supervisor",
            Role::MinistryStaff => "Ministry staff",
            Role::OrgAdmin => "Organization administrator",
            Role::OcmExecutive => "OCM executive",
            Role::OcmAnalyst => "OCM analyst",
            Role::BpdaPlanner => "BPDA planner",
            Role::MfbmBudgetOfficer => "MFBM budget officer",
            Role::SystemAdmin => "System administrator",
        }
    }

    /// May mark a MANA assessment `validated` (a field officer submits; a supervisor validates).
    pub fn may_validate_assessments(self) -> bool {
        matches!(self, Role::Supervisor | Role::OrgAdmin)
    }

    /// Supervises field work: settles sync conflicts, assigns monitoring tasks, watches
    /// the officers' devices.
    pub fn supervises(self) -> bool {
        matches!(self, Role::Supervisor | Role::OrgAdmin)
    }

    /// Works with the organization's records at a desk: the records table, a record's
    /// history, exports, and the live updates of those screens.
    pub fn works_at_desk(self) -> bool {
        matches!(self, Role::MinistryStaff | Role::Supervisor | Role::OrgAdmin)
    }

    /// Oversees every organization (the Office of the Chief Minister): reads the totals
    /// of all of them, and may write nothing anywhere.
    pub fn oversees_all(self) -> bool {
        matches!(self, Role::OcmExecutive | Role::OcmAnalyst)
    }

    /// Works on the organization's records in the field or offline, with a device that
    /// syncs: the roles of the ministries, offices and agencies. The roles of OCM, BPDA
    /// and MFBM work online, at the desk.
    pub fn does_field_work(self) -> bool {
        self.required_org_kind().is_none()
    }

    /// May open the records behind a dashboard's totals (an OCM executive sees totals only).
    pub fn may_drill_down(self) -> bool {
        !matches!(self, Role::OcmExecutive)
    }

    /// The kind of organization a member with this role must belong to, if it is tied to one.
    pub fn required_org_kind(self) -> Option<OrgKind> {
        match self {
            Role::OcmExecutive | Role::OcmAnalyst => Some(OrgKind::Ocm),
            Role::BpdaPlanner => Some(OrgKind::Bpda),
            Role::MfbmBudgetOfficer => Some(OrgKind::Mfbm),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the roles.
#[derive(Debug, thiserror::Error)]
#[error("unknown role `{0}`; roles are: field_officer, supervisor, ministry_staff, org_admin, ocm_executive, ocm_analyst, bpda_planner, mfbm_budget_officer, system_admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What kind of body an organization is: an ordinary ministry, office or agency (MOA),
/// or one of the three with powers over the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Moa,
    Ocm,
    Bpda,
    Mfbm,
}

impl OrgKind {
    /// Every kind.
    pub const ALL: [OrgKind; 4] = [OrgKind::Moa, OrgKind::Ocm, OrgKind::Bpda, OrgKind::Mfbm];

    /// The stored and transmitted name, e.g. `moa`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Moa => "moa",
            OrgKind::Ocm => "ocm",
            OrgKind::Bpda => "bpda",
            OrgKind::Mfbm => "mfbm",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the organization kinds.
#[derive(Debug, thiserror::Error)]
#[error("unknown organization kind `{0}`; kinds are: moa, ocm, bpda, mfbm")]
pub struct UnknownOrgKind(pub String);

impl FromStr for OrgKind {
    type Err = UnknownOrgKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownOrgKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip_through_text_and_json() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
    }

    #[test]
    fn an_unknown_role_names_the_valid_ones() {
        let err = "admin".parse::<Role>().unwrap_err().to_string();
        assert!(err.contains("system_admin"), "{err}");
    }

    #[test]
    fn org_kinds_round_trip() {
        for kind in OrgKind::ALL {
            assert_eq!(kind.as_str().parse::<OrgKind>().unwrap(), kind);
        }
        assert!("ministry".parse::<OrgKind>().is_err());
    }
}
