//! The region chain a box's feed is read from, and its head, on either
//! backend (`DANGJIAN_TEST_DATABASE_URL` for PostgreSQL): read in one
//! statement, with the same answers the step-by-step walk gave.

mod common;

use common::{code, new_item, Replicas, COUNTY, OTHER_VILLAGE, TOWN, VILLAGE};
use headend_store::sql::{params, Sql};
use headend_store::DbError;

#[test]
fn a_village_reads_its_chain_and_the_newest_change_along_it() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let db = r.db();
    let chain = vec![code(VILLAGE), code(TOWN), code(COUNTY)];
    assert_eq!(db.scope_chain(&code(VILLAGE))?, chain);
    assert_eq!(db.chain_and_head(&code(VILLAGE))?, (chain.clone(), 0));

    let county = db.publish(&[new_item("county-news", COUNTY)])?[0].seq;
    let own = db.publish(&[new_item("own-news", VILLAGE)])?[0].seq;
    // A neighbour's change is not this village's.
    db.publish(&[new_item("other-news", OTHER_VILLAGE)])?;
    assert!(own > county);
    assert_eq!(db.chain_and_head(&code(VILLAGE))?, (chain.clone(), own));
    assert_eq!(db.head(&chain)?, own);
    assert_eq!(
        db.chain_and_head(&code(COUNTY))?,
        (vec![code(COUNTY)], county)
    );
    Ok(())
}

#[test]
fn unknown_regions_and_loops_end_the_walk() -> anyhow::Result<()> {
    let r = Replicas::open()?;
    let db = r.db();
    assert!(matches!(
        db.chain_and_head(&code("990101101099")),
        Err(DbError::UnknownRegion(c)) if c == "990101101099"
    ));

    // A hand-edited tree with a loop (parents must exist: a foreign key).
    let conn = db.raw()?;
    conn.execute(
        "UPDATE regions SET parent = ?1 WHERE code = ?2",
        params![VILLAGE, TOWN],
    )?;
    drop(conn);
    let (looped, _) = db.chain_and_head(&code(VILLAGE))?;
    assert_eq!(looped.len(), 9, "a loop is cut, not followed forever");
    Ok(())
}
