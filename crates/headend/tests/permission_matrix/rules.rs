//! What the matrix expects, written down apart from the headend's own code
//! (docs/API.md, "Admin: accounts, sessions, audit"): which role may do
//! what, and where an account's region reaches in the region tree. The
//! viewpoints the matrix looks from are here too.

use headend::db::Role;

/// What an endpoint asks of the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any account.
    View,
    /// An editor or admin (drafts, menus, questionnaires, exams, imports).
    Edit,
    /// An operator or admin (people, meetings, the inbox, boxes).
    Operate,
    /// An admin (accounts, the audit log, county settings).
    Accounts,
    /// A reviewer or admin, reviewing content from a level above it
    /// (approve, return, retract): never at its own level while the county
    /// does not allow that, which is the default.
    Review,
}

/// Where an endpoint's target lives, seen from one side of a viewpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aim {
    /// In the side's village.
    Village,
    /// The side's county itself (settings, an exam the county published).
    County,
    /// No target: the account's own subtree (lists of accounts, audit
    /// entries, meetings) or the headend as a whole (push figures). Tried
    /// once per role; what it hides is checked apart.
    Own,
    /// Shared by the county (the question bank): county accounts only.
    CountyAccounts,
}

/// The role's own table, as the contract gives it.
pub fn role_allows(role: Role, needs: Needs) -> bool {
    match role {
        Role::Admin => true,
        Role::Editor => matches!(needs, Needs::View | Needs::Edit),
        Role::Reviewer => matches!(needs, Needs::View | Needs::Review),
        Role::Operator => matches!(needs, Needs::View | Needs::Operate),
        Role::Viewer => needs == Needs::View,
    }
}

/// A county code ends in six zeros, a town code in three.
pub fn is_county(code: &str) -> bool {
    code.ends_with("000000")
}

fn is_town(code: &str) -> bool {
    !is_county(code) && code.ends_with("000")
}

/// `target` is `home` or lies under it (12-digit statistical codes: a
/// county's towns share its first 6 digits, a town's villages its first 9).
pub fn within(home: &str, target: &str) -> bool {
    if is_county(home) {
        target[..6] == home[..6]
    } else if is_town(home) {
        target[..9] == home[..9]
    } else {
        target == home
    }
}

/// Whether an account of `role` at `home` may do what `needs` asks to a
/// target at `target` (None: an endpoint without one).
pub fn expected_ok(role: Role, needs: Needs, aim: Aim, home: &str, target: Option<&str>) -> bool {
    if !role_allows(role, needs) {
        return false;
    }
    match (aim, target) {
        (Aim::Own, _) => true,
        (Aim::CountyAccounts, _) => is_county(home),
        (Aim::Village | Aim::County, Some(target)) => {
            within(home, target) && (needs != Needs::Review || home != target)
        }
        (Aim::Village | Aim::County, None) => false,
    }
}

/// A village and the county it is in: where a side's targets live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub village: &'static str,
    pub county: &'static str,
}

/// Accounts at `home` (one per role), trying every endpoint against a
/// target `inside` their region and one `outside` it.
#[derive(Debug, Clone, Copy)]
pub struct Viewpoint {
    pub name: &'static str,
    pub home: &'static str,
    pub inside: Place,
    pub outside: Place,
}

pub const QINGSHAN: &str = "990101000000";
pub const QINGSHI: &str = "990101101000";
pub const DONGPO: &str = "990101101001";
pub const HEWAN: &str = "990101101002";
pub const LIULIN: &str = "990101102001";
/// A second county the matrix adds to the demo tree, with one town and
/// one village, so that a county account has an outside too.
pub const BAIHE: &str = "990102000000";
pub const BAIHE_TOWN: &str = "990102101000";
pub const BAIHE_VILLAGE: &str = "990102101001";

/// 东坡村's accounts: 河湾村 (the same town) is outside. No review ever
/// succeeds here: 东坡村's content is reviewed from 青石镇.
pub const VILLAGE: Viewpoint = Viewpoint {
    name: "village",
    home: DONGPO,
    inside: Place {
        village: DONGPO,
        county: QINGSHAN,
    },
    outside: Place {
        village: HEWAN,
        county: BAIHE,
    },
};

/// 青石镇's accounts, who review 东坡村; 柳林村 (another town) is outside.
pub const TOWN: Viewpoint = Viewpoint {
    name: "town",
    home: QINGSHI,
    inside: Place {
        village: DONGPO,
        county: QINGSHAN,
    },
    outside: Place {
        village: LIULIN,
        county: BAIHE,
    },
};

/// 青山县's accounts, who alone change county settings and the question
/// bank and read the county's exams; 白河县 (another county) is outside.
pub const COUNTY: Viewpoint = Viewpoint {
    name: "county",
    home: QINGSHAN,
    inside: Place {
        village: DONGPO,
        county: QINGSHAN,
    },
    outside: Place {
        village: BAIHE_VILLAGE,
        county: BAIHE,
    },
};

pub const VIEWPOINTS: [Viewpoint; 3] = [VILLAGE, TOWN, COUNTY];

#[test]
fn the_rules_read_the_region_tree_as_the_contract_does() {
    assert!(within(QINGSHAN, DONGPO) && within(QINGSHI, DONGPO) && within(DONGPO, DONGPO));
    assert!(!within(DONGPO, HEWAN) && !within(QINGSHI, LIULIN) && !within(QINGSHAN, BAIHE));
    assert!(!within(DONGPO, QINGSHI) && !within(QINGSHI, QINGSHAN));
    // A village reviewer never reviews its own village; the town does.
    assert!(!expected_ok(
        Role::Reviewer,
        Needs::Review,
        Aim::Village,
        DONGPO,
        Some(DONGPO)
    ));
    assert!(expected_ok(
        Role::Reviewer,
        Needs::Review,
        Aim::Village,
        QINGSHI,
        Some(DONGPO)
    ));
}
