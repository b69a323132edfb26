//! Importing a spreadsheet (XLSX or CSV) as a disclosure draft: each sheet
//! becomes a table. Any problem anywhere in the file is answered with
//! every problem by sheet and cell, and nothing is stored.

use model::{AreaCode, Block, Content, Disclosure, DisclosureCategory};
use serde::Deserialize;

use crate::db::{Draft, Permission, Target};
use crate::{Actor, Ops, OpsError};

/// Files parsed at once.
const PARSERS: usize = 2;
static PARSING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PARSERS);

/// What to make of a file: the disclosure's region and labels, and how
/// to read it.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportRequest {
    pub scope: AreaCode,
    /// `party`, `village` or `finance`.
    pub category: String,
    pub module: String,
    pub period: String,
    /// Defaults to the first sheet's title row.
    pub title: Option<String>,
    /// `xlsx` or `csv`.
    pub format: String,
    /// The file's name, used to name a CSV's "sheet" in problems.
    pub name: Option<String>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OpsError> + Send + 'static,
) -> Result<T, OpsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| OpsError::Internal(e.to_string()))?
}

impl Ops {
    /// Reads `file` into a disclosure draft for `request.scope`.
    /// `Ok(Err(problems))`: the file has problems, named by sheet and
    /// cell, and nothing was stored.
    pub async fn import_disclosure(
        &self,
        actor: &Actor,
        request: ImportRequest,
        file: Vec<u8>,
    ) -> Result<Result<Draft, Vec<sheets::Problem>>, OpsError> {
        let category = DisclosureCategory::parse(&request.category).ok_or_else(|| {
            OpsError::BadRequest(format!(
                "category is party, village or finance, not {:?}",
                request.category
            ))
        })?;
        let (ops, who, scope) = (self.clone(), actor.clone(), request.scope.clone());
        blocking(move || who.require(&ops.db, Permission::EditContent, &Target::Region(&scope)))
            .await?;
        // Parsing a large workbook is CPU work: off the async threads, and
        // at most PARSERS at once, so the memory a burst of imports takes
        // is bounded by PARSERS times what one file may cost.
        let _parser = PARSING
            .acquire()
            .await
            .map_err(|e| OpsError::Internal(e.to_string()))?;
        let format = request.format.clone();
        let name = request.name.clone().unwrap_or_else(|| "CSV".into());
        let read = blocking(move || match format.as_str() {
            "xlsx" => Ok(sheets::read_xlsx(&file)),
            "csv" => Ok(sheets::read_csv(&name, &file)),
            other => Err(OpsError::BadRequest(format!(
                "format is xlsx or csv, not {other:?}"
            ))),
        })
        .await?;
        let tables = match read {
            Ok(t) => t,
            Err(sheets::SheetsError::Problems(problems)) => return Ok(Err(problems)),
            Err(e) => return Err(OpsError::BadRequest(e.to_string())),
        };
        let title = request
            .title
            .filter(|t| !t.trim().is_empty())
            .or_else(|| tables.iter().find_map(|t| t.title.clone()))
            .ok_or_else(|| {
                OpsError::BadRequest(
                    "give the disclosure a title: the file has no title row".into(),
                )
            })?;
        let content = Content::Disclosure(Disclosure {
            category,
            module: request.module,
            title,
            period: request.period,
            body: tables.into_iter().map(|t| Block::Table(t.table)).collect(),
            corrections: Vec::new(),
        });
        let (ops, who) = (self.clone(), actor.clone());
        let draft =
            blocking(move || ops.create_draft(&who, &request.scope, &content, None)).await?;
        Ok(Ok(draft))
    }
}

#[cfg(test)]
mod tests {
    use model::{Block, Content};

    use super::ImportRequest;
    use crate::db::Role;
    use crate::testing::{actor, code, world, COUNTY, OTHER_VILLAGE, VILLAGE};
    use crate::OpsError;

    const LIST: &str = "序号,户主,备注\n1,李四,\n2,王五,新增\n";

    fn request(scope: &str, format: &str, title: Option<&str>) -> ImportRequest {
        ImportRequest {
            scope: code(scope),
            category: "village".into(),
            module: "低保户".into(),
            period: "2026年11月".into(),
            title: title.map(str::to_string),
            format: format.into(),
            name: Some("低保名单.csv".into()),
        }
    }

    #[tokio::test]
    async fn a_csv_list_becomes_a_draft_with_one_table() {
        let w = world();
        let editor = actor("dongpo-accountant", VILLAGE, Role::Editor);
        let draft = w
            .ops
            .import_disclosure(
                &editor,
                request(VILLAGE, "csv", Some("低保名单")),
                LIST.into(),
            )
            .await
            .expect("imported")
            .expect("no problems");
        assert_eq!(draft.scope, code(VILLAGE));
        assert_eq!(draft.author, "dongpo-accountant");
        let Content::Disclosure(d) = &draft.content else {
            panic!("not a disclosure: {:?}", draft.content)
        };
        assert_eq!(
            (d.title.as_str(), d.module.as_str()),
            ("低保名单", "低保户")
        );
        let [Block::Table(t)] = d.body.as_slice() else {
            panic!("not one table: {:?}", d.body)
        };
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1][1], "王五");
    }

    #[tokio::test]
    async fn a_file_with_problems_or_for_another_region_stores_nothing() {
        let w = world();
        let editor = actor("dongpo-accountant", VILLAGE, Role::Editor);
        let header_only = w
            .ops
            .import_disclosure(
                &editor,
                request(VILLAGE, "csv", Some("低保名单")),
                "序号,户主,备注\n".into(),
            )
            .await
            .expect("read");
        let problems = header_only.expect_err("a list without rows has a problem");
        assert_eq!(problems[0].sheet, "低保名单.csv");

        let foreign = w
            .ops
            .import_disclosure(
                &editor,
                request(OTHER_VILLAGE, "csv", Some("低保名单")),
                LIST.into(),
            )
            .await;
        assert!(
            matches!(foreign, Err(OpsError::Forbidden(_))),
            "{foreign:?}"
        );
        let format = w
            .ops
            .import_disclosure(
                &editor,
                request(VILLAGE, "ods", Some("低保名单")),
                LIST.into(),
            )
            .await;
        assert!(matches!(format, Err(OpsError::BadRequest(_))), "{format:?}");
        let stored = w.ops.db.drafts_under(&code(COUNTY), None).expect("drafts");
        assert!(stored.is_empty(), "{stored:?}");
    }
}
