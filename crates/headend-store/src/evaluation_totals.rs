//! Questionnaire totals for staff, and which regions may show them.
//!
//! Only totals per question are given out, never one household's answers,
//! and never totals over fewer than [`MIN_GROUP`] households. A rule per
//! region is not enough: a town's totals minus those of all its villages
//! but one give that village's, however small. So for each questionnaire
//! the regions that show totals are chosen together, over the whole region
//! tree, such that every figure that can be worked out from what is shown
//! by adding and subtracting covers no household or at least
//! [`MIN_GROUP`]:
//!
//! 1. a region where 1 to `MIN_GROUP - 1` households answered shows none;
//! 2. a region that shows totals has a *remainder*: its households not
//!    covered by the regions below it that show theirs (what subtracting
//!    those from it gives). A remainder must be 0 or at least `MIN_GROUP`.
//!    Where it is not, the region below with the smallest non-zero
//!    remainder is withheld too, which adds that remainder to this one; if
//!    there is none, this region is withheld itself (its remainder then
//!    belongs to the region above).
//!
//! Regions are settled from the villages up, so no decision is undone. The
//! regions that show totals are nested or disjoint, so any sum or
//! difference of their totals is a sum of remainders: each 0 or at least
//! `MIN_GROUP` households.

use std::collections::{HashMap, HashSet};

use crate::sql::{params, Sql};
use model::{Answer, AreaCode, Content, Question, QuestionKind};

use super::{published, subtree, Db, DbError};

/// Fewest households whose answers are totalled for one region (and
/// fewest that any difference of shown totals may cover).
pub const MIN_GROUP: u32 = 3;

/// Totals for one question.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuestionTotals {
    pub id: String,
    pub text: String,
    pub kind: String,
    pub options: Vec<String>,
    /// How many households chose each option.
    pub counts: Vec<u32>,
    /// For ratings: the mean of 1..5.
    pub mean_rating: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvaluationResults {
    pub questionnaire: String,
    pub title: String,
    pub target: String,
    pub target_name: String,
    pub households: u32,
    /// Empty when the totals here are withheld (see `withheld`).
    pub questions: Vec<QuestionTotals>,
    pub withheld: Option<String>,
}

/// One region's part in a questionnaire.
#[derive(Debug, Clone, Copy)]
struct Settled {
    households: u32,
    shown: bool,
    remainder: u32,
}

/// The region tree: children by parent, and the regions without a parent.
struct Tree {
    children: HashMap<String, Vec<String>>,
    roots: Vec<String>,
}

impl Tree {
    fn load(conn: &impl Sql) -> Result<Tree, DbError> {
        let rows = conn
            .prepare_cached("SELECT code, parent FROM regions ORDER BY code")?
            .query_map(params![], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let known: HashSet<&str> = rows.iter().map(|(c, _)| c.as_str()).collect();
        let mut tree = Tree {
            children: HashMap::new(),
            roots: Vec::new(),
        };
        for (code, parent) in &rows {
            match parent.as_deref().filter(|p| known.contains(p)) {
                Some(p) => tree
                    .children
                    .entry(p.to_string())
                    .or_default()
                    .push(code.clone()),
                None => tree.roots.push(code.clone()),
            }
        }
        Ok(tree)
    }

    fn children(&self, code: &str) -> &[String] {
        self.children.get(code).map_or(&[], Vec::as_slice)
    }
}

/// A hand-edited tree with a cycle must not hang the server.
const MAX_DEPTH: usize = 8;

/// The regions below `code` that show totals with no region showing
/// totals between them and `code`.
fn shown_below(
    tree: &Tree,
    settled: &HashMap<String, Settled>,
    code: &str,
    depth: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    if depth > MAX_DEPTH {
        return out;
    }
    for child in tree.children(code) {
        match settled.get(child) {
            Some(s) if s.shown => out.push(child.clone()),
            _ => out.extend(shown_below(tree, settled, child, depth + 1)),
        }
    }
    out
}

/// Settles `code` after everything below it; returns its households.
fn settle(
    tree: &Tree,
    answered: &HashMap<String, u32>,
    settled: &mut HashMap<String, Settled>,
    code: &str,
    depth: usize,
) -> u32 {
    if depth > MAX_DEPTH || settled.contains_key(code) {
        return 0;
    }
    let mut households = answered.get(code).copied().unwrap_or(0);
    for child in tree.children(code) {
        households += settle(tree, answered, settled, child, depth + 1);
    }
    let mut shown = !(1..MIN_GROUP).contains(&households);
    let mut remainder = 0;
    if shown {
        loop {
            let below = shown_below(tree, settled, code, 0);
            let covered: u32 = below.iter().map(|b| settled[b].households).sum();
            remainder = households.saturating_sub(covered);
            if !(1..MIN_GROUP).contains(&remainder) {
                break;
            }
            let merge = below
                .iter()
                .filter(|b| settled[*b].remainder > 0)
                .min_by_key(|b| (settled[*b].remainder, settled[*b].households, (*b).clone()))
                .cloned();
            match merge {
                Some(b) => {
                    if let Some(s) = settled.get_mut(&b) {
                        s.shown = false;
                    }
                }
                None => {
                    shown = false;
                    break;
                }
            }
        }
    }
    settled.insert(
        code.to_string(),
        Settled {
            households,
            shown,
            remainder,
        },
    );
    households
}

/// Every region's part in `questionnaire`.
fn settle_all(conn: &impl Sql, questionnaire: &str) -> Result<HashMap<String, Settled>, DbError> {
    let answered: HashMap<String, u32> = conn
        .prepare_cached(
            "SELECT village, count(*) FROM evaluations WHERE questionnaire = ?1 GROUP BY village",
        )?
        .query_map([questionnaire], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let tree = Tree::load(conn)?;
    let mut settled = HashMap::new();
    for root in &tree.roots {
        settle(&tree, &answered, &mut settled, root, 0);
    }
    Ok(settled)
}

fn question_totals(q: &Question) -> QuestionTotals {
    let options = q.kind.options();
    QuestionTotals {
        id: q.id.clone(),
        text: q.text.clone(),
        kind: q.kind.label().to_string(),
        counts: vec![0; options.len()],
        options,
        mean_rating: None,
    }
}

/// Totals over the answers of households in `villages`.
fn totals(
    conn: &impl Sql,
    questionnaire: &str,
    questions: &[Question],
    villages: &[String],
) -> Result<Vec<QuestionTotals>, DbError> {
    let rows = conn
        .prepare_cached("SELECT village, answers FROM evaluations WHERE questionnaire = ?1")?
        .query_map([questionnaire], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut totals: Vec<QuestionTotals> = questions.iter().map(question_totals).collect();
    let mut ratings: Vec<(u32, u32)> = vec![(0, 0); questions.len()];
    for (village, answers) in rows {
        if !villages.contains(&village) {
            continue;
        }
        let answers: Vec<Answer> = serde_json::from_str(&answers)?;
        for a in answers {
            let Some(i) = questions.iter().position(|x| x.id == a.question) else {
                continue;
            };
            for c in &a.choices {
                if let Some(n) = totals[i].counts.get_mut(usize::from(*c)) {
                    *n += 1;
                }
                if questions[i].kind == QuestionKind::Rating {
                    ratings[i].0 += u32::from(*c) + 1;
                    ratings[i].1 += 1;
                }
            }
        }
    }
    for (t, (sum, n)) in totals.iter_mut().zip(ratings) {
        if n > 0 {
            t.mean_rating = Some(f64::from(sum) / f64::from(n));
        }
    }
    Ok(totals)
}

impl Db {
    /// Totals per question for households in villages under `region`, or
    /// why they are withheld there.
    pub fn evaluation_results(
        &self,
        questionnaire: &str,
        region: &AreaCode,
    ) -> Result<EvaluationResults, DbError> {
        let conn = self.lock()?;
        let Some((_, Content::Questionnaire(q))) = published(&conn, questionnaire)? else {
            return Err(DbError::NotFound(format!("questionnaire {questionnaire}")));
        };
        let villages = subtree(&conn, region)?;
        let here = settle_all(&conn, questionnaire)?
            .get(region.as_str())
            .copied()
            .unwrap_or(Settled {
                households: 0,
                shown: false,
                remainder: 0,
            });
        let households = here.households;
        let withheld = if here.shown {
            None
        } else if households < MIN_GROUP {
            Some(format!(
                "only {households} households answered here; totals are shown from {MIN_GROUP} on, so no household's answers can be told"
            ))
        } else {
            Some(format!(
                "totals here are withheld: with the totals shown for the regions around it, they would let the answers of fewer than {MIN_GROUP} households be worked out by subtraction"
            ))
        };
        let questions = if withheld.is_some() {
            Vec::new()
        } else {
            totals(&conn, questionnaire, &q.questions, &villages)?
        };
        Ok(EvaluationResults {
            questionnaire: questionnaire.to_string(),
            title: q.title.clone(),
            target: q.target.label().to_string(),
            target_name: q.target_name.clone(),
            households,
            questions,
            withheld,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tree(edges: &[(&str, Option<&str>)]) -> Tree {
        let mut t = Tree {
            children: HashMap::new(),
            roots: Vec::new(),
        };
        for (code, parent) in edges {
            match parent {
                Some(p) => t
                    .children
                    .entry(p.to_string())
                    .or_default()
                    .push(code.to_string()),
                None => t.roots.push(code.to_string()),
            }
        }
        t
    }

    fn run(t: &Tree, answered: &[(&str, u32)]) -> HashMap<String, Settled> {
        let answered = answered.iter().map(|(c, n)| (c.to_string(), *n)).collect();
        let mut settled = HashMap::new();
        for root in &t.roots {
            settle(t, &answered, &mut settled, root, 0);
        }
        settled
    }

    fn shown(s: &HashMap<String, Settled>) -> Vec<&str> {
        let mut v: Vec<&str> = s
            .iter()
            .filter(|(_, x)| x.shown && x.households > 0)
            .map(|(c, _)| c.as_str())
            .collect();
        v.sort_unstable();
        v
    }

    /// Every shown region's remainder is 0 or at least MIN_GROUP.
    fn safe(t: &Tree, s: &HashMap<String, Settled>) -> bool {
        s.iter().filter(|(_, x)| x.shown).all(|(code, x)| {
            let covered: u32 = shown_below(t, s, code, 0)
                .iter()
                .map(|b| s[b].households)
                .sum();
            let r = x.households - covered;
            r == 0 || r >= MIN_GROUP
        })
    }

    #[test]
    fn a_small_village_takes_its_smallest_sibling_with_it() {
        let t = tree(&[
            ("county", None),
            ("town", Some("county")),
            ("a", Some("town")),
            ("b", Some("town")),
            ("c", Some("town")),
        ]);
        let s = run(&t, &[("a", 5), ("b", 4), ("c", 1)]);
        assert_eq!(shown(&s), ["a", "county", "town"]);
        assert!(safe(&t, &s));
    }

    #[test]
    fn two_small_villages_cover_each_other() {
        let t = tree(&[
            ("town", None),
            ("a", Some("town")),
            ("b", Some("town")),
            ("c", Some("town")),
        ]);
        let s = run(&t, &[("a", 5), ("b", 2), ("c", 1)]);
        assert_eq!(shown(&s), ["a", "town"]);
        assert!(safe(&t, &s));
    }

    #[test]
    fn a_small_town_is_covered_across_the_county() {
        // Town 2 has 2 households: the county minus town 1 would give them.
        let t = tree(&[
            ("county", None),
            ("t1", Some("county")),
            ("t2", Some("county")),
            ("a", Some("t1")),
            ("b", Some("t1")),
            ("c", Some("t2")),
        ]);
        let s = run(&t, &[("a", 3), ("b", 3), ("c", 2)]);
        assert!(safe(&t, &s));
        assert!(!s["t2"].shown && !s["c"].shown);
        // Town 1 covers its villages exactly, so withholding it would not
        // help: the county is withheld instead.
        assert_eq!(shown(&s), ["a", "b", "t1"]);
    }

    #[test]
    fn nothing_to_hide_shows_everything() {
        let t = tree(&[("town", None), ("a", Some("town")), ("b", Some("town"))]);
        let s = run(&t, &[("a", 3), ("b", 4)]);
        assert_eq!(shown(&s), ["a", "b", "town"]);
        let s = run(&t, &[]);
        assert!(s.values().all(|x| x.shown));
    }
}
