//! Who manages the people of an organization, and which roles they may give.

use super::{only, Denied};
use crate::{OrgKind, Role};

/// May `role` list, create, change, disable and re-enable the organization's users, and
/// read its audit log? Its administrator (and the system administrator).
pub fn may_manage_people(role: Role) -> Result<(), Denied> {
    only(matches!(role, Role::OrgAdmin | Role::SystemAdmin), "Only the organization's administrator manages its people.")
}

/// May `role` create, rename, deactivate and reactivate organizations, and manage the
/// people and read the audit log of any of them? The system administrator alone.
pub fn may_manage_organizations(role: Role) -> Result<(), Denied> {
    only(role == Role::SystemAdmin, "Only the system administrator manages organizations.")
}

/// May `role` read the organization's audit log (browse, check the chain, export)?
/// Its administrator and the system administrator.
pub fn may_read_audit(role: Role) -> Result<(), Denied> {
    only(matches!(role, Role::OrgAdmin | Role::SystemAdmin), "Only the organization's administrator reads its audit log.")
}

/// The roles an administrator may give in an organization of `kind`: the roles of its
/// kind (OCM's, BPDA's, MFBM's), or a ministry's field and desk roles, and an
/// administrator everywhere. The system administrator is made by the operator alone.
pub fn grantable_roles(kind: OrgKind) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| match role.required_org_kind() {
            Some(required) => required == kind,
            None => *role == Role::OrgAdmin || (kind == OrgKind::Moa && *role != Role::SystemAdmin),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_organization_grants_its_own_roles_and_never_the_system_administrator() {
        use Role::*;
        assert_eq!(grantable_roles(OrgKind::Moa), [FieldOfficer, Supervisor, MinistryStaff, OrgAdmin]);
        assert_eq!(grantable_roles(OrgKind::Ocm), [OrgAdmin, OcmExecutive, OcmAnalyst]);
        assert_eq!(grantable_roles(OrgKind::Bpda), [OrgAdmin, BpdaPlanner]);
        assert_eq!(grantable_roles(OrgKind::Mfbm), [OrgAdmin, MfbmBudgetOfficer]);
    }
}
