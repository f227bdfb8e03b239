//! The block explorer: server-rendered HTML pages over a group's ledger, no JavaScript.
//!
//! Every page reads a bounded amount: the overview and the lists walk back from the head over
//! at most [`RECENT_BLOCKS`] headers and [`RECENT_TXS`] transactions, and never scan the chain.
//! Charts are SVG drawn by `plotters`.

use crate::backend::PoolQuery;
use crate::eth::{Snapshot, View};
use crate::web::Page;
use crate::{Group, Rpc};
use alloy_dyn_abi::EventExt;
use alloy_json_abi::{Event, JsonAbi};
use alloy_primitives::{Address, B256, Log, TxKind};
use jinlian_crypto::{CryptoSuite, PublicKey};
use jinlian_executor::state::keys;
use jinlian_executor::system::NodeRole;
use jinlian_executor::{AccountRecord, StateView};
use jinlian_primitives::{Header, Height, Receipt, RecoveredTx, TxBody, status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Rows per list page.
const PAGE: u64 = 25;
/// Most blocks a page walks back over (headers only).
const RECENT_BLOCKS: u64 = 1_000;
/// Most transactions a list page reads.
const RECENT_TXS: usize = 2_000;
/// Most bytes of transactions a list page decodes.
const RECENT_BYTES: usize = 4 * 1024 * 1024;
/// Most transactions a block page lists at once.
const BLOCK_ROWS: usize = 200;
/// Largest log data decoded, and longest decoded text shown.
const MAX_DECODED_LOG: usize = 4096;
/// Blocks the charts cover.
const CHART_BLOCKS: u64 = 120;

/// Why a page could not be shown.
enum Fail {
    NotFound(String),
    Bad(String),
    Internal(String),
}

fn internal(e: impl std::fmt::Display) -> Fail {
    Fail::Internal(e.to_string())
}

type Res<T> = Result<T, Fail>;

/// A rendered page body and its title.
struct Html {
    title: String,
    body: String,
}

/// What every page of one request shares.
struct Ctx<'a> {
    g: &'a Group,
    v: View,
    suite: CryptoSuite,
    /// `?group=N` to append to links, or empty for the default group.
    gq: String,
    head: u64,
}

impl Ctx<'_> {
    fn link(&self, path: &str) -> String {
        format!("/explorer{path}{}", self.gq)
    }

    fn link_q(&self, path: &str, query: &str) -> String {
        let sep = if self.gq.is_empty() { "?" } else { "&" };
        format!("/explorer{path}{}{sep}{query}", self.gq)
    }

    fn state(&self) -> Snapshot<'_> {
        Snapshot(&self.v, None)
    }

    fn header(&self, h: u64) -> Res<Option<(Header, u32)>> {
        self.v.header_and_count(Height(h)).map_err(internal)
    }

    fn block_link(&self, h: u64) -> String {
        format!("<a href=\"{}\">{h}</a>", self.link(&format!("/block/{h}")))
    }

    fn tx_link(&self, hash: &B256) -> String {
        format!(
            "<a class=\"mono\" href=\"{}\">{}</a>",
            self.link(&format!("/tx/{hash}")),
            short(hash)
        )
    }

    fn addr_link(&self, a: &Address) -> String {
        format!(
            "<a class=\"mono\" href=\"{}\">{}</a>",
            self.link(&format!("/address/{a}")),
            a.to_checksum(None)
        )
    }
}

/// Answers one explorer request (`path` after `/explorer`, without a trailing slash).
pub(crate) fn page(rpc: &Rpc, path: &str, query: &str) -> Page {
    let q: BTreeMap<String, String> =
        form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let result = render(rpc, path, &q);
    let (status, html) = match result {
        Ok(Ok(h)) => (200, h),
        Ok(Err(location)) => {
            return Page::html(303, String::new()).with_location(location);
        }
        Err(Fail::NotFound(m)) => (404, message("Not found", &m)),
        Err(Fail::Bad(m)) => (400, message("Bad request", &m)),
        Err(Fail::Internal(m)) => {
            (500, message("Error", &format!("the node could not answer: {m}")))
        }
    };
    let group = q.get("group").and_then(|g| g.parse::<u32>().ok());
    Page::html(status, layout(&html, group, &rpc.group_ids(), rpc.first))
}

fn message(title: &str, m: &str) -> Html {
    Html { title: title.into(), body: format!("<h1>{}</h1><p>{}</p>", esc(title), esc(m)) }
}

/// Renders a page, or names the page to redirect to.
fn render(rpc: &Rpc, path: &str, q: &BTreeMap<String, String>) -> Res<Result<Html, String>> {
    let (g, gq) = match q.get("group") {
        None => (rpc.group_by_id(rpc.first), String::new()),
        Some(id) => {
            let id: u32 =
                id.parse().map_err(|_| Fail::Bad(format!("group {id:?} is not a number")))?;
            (rpc.group_by_id(id), format!("?group={id}"))
        }
    };
    let g = g.map_err(|e| Fail::NotFound(e.message().to_string()))?;
    let v = g.ledger.view().map_err(internal)?;
    let head = v.head().map_err(internal)?.map_or(0, |h| h.height.0);
    let c = Ctx { g: &g, v, suite: g.exec.suite, gq, head };
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let num = |key: &str| -> Res<Option<u64>> {
        q.get(key)
            .map(|s| {
                s.parse::<u64>().map_err(|_| Fail::Bad(format!("{key}={s:?} is not a number")))
            })
            .transpose()
    };
    let html = match segs.as_slice() {
        [] => overview(&c)?,
        ["blocks"] => blocks(&c, num("before")?)?,
        ["block", id] => block(&c, id, num("from")?.unwrap_or(0))?,
        ["txs"] => txs(&c, q.get("older"))?,
        ["tx", hash] => tx(&c, hash)?,
        ["address", a] => address(&c, a)?,
        ["accounts"] => accounts(&c)?,
        ["contracts"] => contracts(&c)?,
        ["search"] => return search(&c, q.get("q").map(String::as_str).unwrap_or("")).map(Err),
        _ => return Err(Fail::NotFound(format!("there is no explorer page at {path:?}"))),
    };
    Ok(Ok(html))
}

impl Page {
    fn with_location(mut self, location: String) -> Self {
        self.body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><title>Redirect</title></head><body><a href=\"{}\">{}</a></body></html>",
            esc(&location),
            esc(&location)
        );
        self.location = Some(location);
        self
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f5f6f8}\
header{background:#8a1c1c;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center;flex-wrap:wrap}\
header a{color:#fff;text-decoration:none;font-weight:600}header .brand{font-size:20px}\
header form{margin-left:auto}header input{width:420px;max-width:60vw;padding:6px;border:0;border-radius:4px}\
main{padding:16px 24px;max-width:1200px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}\
table{border-collapse:collapse;width:100%;background:#fff;margin:8px 0}\
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e3e6ea;vertical-align:top}\
th{background:#eef0f3;font-weight:600}.mono{font-family:ui-monospace,monospace;font-size:13px}\
.wrap{word-break:break-all}.tiles{display:flex;gap:12px;flex-wrap:wrap}\
.tile{background:#fff;padding:12px 16px;border-radius:6px;min-width:150px;box-shadow:0 1px 2px #0002}\
.tile b{display:block;font-size:22px}.ok{color:#17702e}.bad{color:#b3261e}.muted{color:#68707c}\
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{background:#fff;border-radius:6px}\
nav.pages{margin:12px 0}nav.pages a{margin-right:16px}\
header a.current{text-decoration:underline}";

/// The page around a body; with several groups running, links to each group's overview.
fn layout(h: &Html, group: Option<u32>, groups: &[u32], first: u32) -> String {
    let gq = group.map(|g| format!("?group={g}")).unwrap_or_default();
    let hidden = group
        .map(|g| format!("<input type=\"hidden\" name=\"group\" value=\"{g}\">"))
        .unwrap_or_default();
    let shown = group.unwrap_or(first);
    let switcher: String = if groups.len() > 1 {
        groups
            .iter()
            .map(|g| {
                let class = if *g == shown { " class=\"current\"" } else { "" };
                format!("<a{class} href=\"/explorer?group={g}\">Group {g}</a>")
            })
            .collect()
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · Jinlian explorer</title><style>{STYLE}</style></head><body>\
<header><a class=\"brand\" href=\"/explorer{gq}\">金链 Jinlian</a>\
<a href=\"/explorer/blocks{gq}\">Blocks</a><a href=\"/explorer/txs{gq}\">Transactions</a>\
<a href=\"/explorer/accounts{gq}\">Accounts</a><a href=\"/explorer/contracts{gq}\">Contracts</a>\
{switcher}<form action=\"/explorer/search\" method=\"get\">{hidden}<input name=\"q\" \
placeholder=\"Search by block height, block or transaction hash, address\" aria-label=\"search\"></form>\
</header><main>{body}</main></body></html>\n",
        title = esc(&h.title),
        body = h.body
    )
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn short(h: &B256) -> String {
    let s = format!("{h:#x}");
    format!("{}…{}", &s[..10], &s[s.len() - 8..])
}

fn hex(b: &[u8]) -> String {
    format!("0x{}", alloy_primitives::hex::encode(b))
}

/// `YYYY-MM-DD hh:mm:ss.mmm UTC` from Unix milliseconds.
fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn ago(ms: u64) -> String {
    let d = now_ms().saturating_sub(ms) / 1000;
    match d {
        0..=59 => format!("{d} s ago"),
        60..=3599 => format!("{} min ago", d / 60),
        3600..=86_399 => format!("{} h ago", d / 3600),
        _ => format!("{} d ago", d / 86_400),
    }
}

/// Recent block headers, newest first: at most `n`, from `from` down.
fn recent_headers(c: &Ctx<'_>, from: u64, n: u64) -> Res<Vec<(u64, Header, u32)>> {
    let mut out = Vec::new();
    let mut h = from.min(c.head);
    loop {
        if out.len() as u64 >= n {
            break;
        }
        if let Some((header, count)) = c.header(h)? {
            out.push((h, header, count));
        }
        if h == 0 {
            break;
        }
        h -= 1;
    }
    Ok(out)
}

/// A committed transaction with its block height and position.
type Located = (u64, u32, RecoveredTx);

/// Recent transactions, newest first, strictly older than `cursor` (block, index), or from
/// the head: at most `n`, over at most [`RECENT_BLOCKS`] blocks and [`RECENT_BYTES`] of
/// transactions. Also returns the lowest block looked at.
fn recent_txs(c: &Ctx<'_>, cursor: Option<(u64, u32)>, n: usize) -> Res<(Vec<Located>, u64)> {
    let mut out = Vec::new();
    let (mut h, mut below) = match cursor {
        Some((h, i)) if h <= c.head => (h, Some(i)),
        _ => (c.head, None),
    };
    let lowest = h.saturating_sub(RECENT_BLOCKS - 1);
    let mut bytes = 0usize;
    loop {
        if let Some((_, count)) = c.header(h)?
            && count > 0
        {
            let rows = c.v.block_txs(Height(h)).map_err(internal)?;
            let end = below.map_or(rows.len(), |i| (i as usize).min(rows.len()));
            for (i, row) in rows[..end].iter().enumerate().rev() {
                if out.len() >= n || bytes > RECENT_BYTES {
                    break;
                }
                bytes += row.raw.len();
                let tx =
                    jinlian_primitives::Transaction::decode(&row.raw, c.suite).map_err(internal)?;
                out.push((h, i as u32, RecoveredTx { tx, sender: row.sender }));
            }
        }
        below = None;
        if out.len() >= n || bytes > RECENT_BYTES || h == lowest {
            break;
        }
        h -= 1;
    }
    Ok((out, h))
}

fn account(c: &Ctx<'_>, a: &Address) -> Res<AccountRecord> {
    match c.state().get(&keys::account(a)).map_err(internal)? {
        Some(b) => AccountRecord::decode_bytes(&b).map_err(internal),
        None => Ok(AccountRecord::default()),
    }
}

fn tx_to(c: &Ctx<'_>, t: &RecoveredTx) -> String {
    match t.tx.to() {
        TxKind::Call(a) => c.addr_link(&a),
        TxKind::Create => "<span class=\"muted\">contract creation</span>".into(),
    }
}

fn txs_table(c: &Ctx<'_>, rows: &[Located]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">No transactions.</p>".into();
    }
    let mut s = String::from(
        "<table><tr><th>Hash</th><th>Block</th><th>From</th><th>To</th><th>Value</th></tr>",
    );
    for (h, _, t) in rows {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.tx_link(&t.tx.hash()),
            c.block_link(*h),
            c.addr_link(&t.sender),
            tx_to(c, t),
            t.tx.value()
        );
    }
    s.push_str("</table>");
    s
}

fn blocks_table(c: &Ctx<'_>, rows: &[(u64, Header, u32)]) -> String {
    let mut s = String::from(
        "<table><tr><th>Height</th><th>Hash</th><th>Time</th><th>Transactions</th><th>Gas used</th><th>View</th></tr>",
    );
    for (h, header, count) in rows {
        let hash = header.hash(c.suite);
        let _ = write!(
            s,
            "<tr><td>{}</td><td><a class=\"mono\" href=\"{}\">{}</a></td><td title=\"{}\">{}</td><td>{count}</td><td>{}</td><td>{}</td></tr>",
            c.block_link(*h),
            c.link(&format!("/block/{hash}")),
            short(&hash),
            utc(header.timestamp_ms),
            ago(header.timestamp_ms),
            header.gas_used,
            c.v.certificate(Height(*h)).ok().flatten().map_or(0, |cert| cert.view.0),
        );
    }
    s.push_str("</table>");
    s
}

fn tile(label: &str, value: &str) -> String {
    format!("<div class=\"tile\"><span class=\"muted\">{}</span><b>{}</b></div>", esc(label), value)
}

fn overview(c: &Ctx<'_>) -> Res<Html> {
    let totals = c.v.totals().map_err(internal)?;
    let status = c.g.backend.status();
    // Genesis is left out: its time is the genesis file's, not a block interval.
    let recent: Vec<_> =
        recent_headers(c, c.head, CHART_BLOCKS)?.into_iter().filter(|(h, _, _)| *h > 0).collect();
    let newest = recent.first().map_or(0, |(_, h, _)| h.timestamp_ms);
    let tps = live_tps(c)?;
    let block_time = match (recent.first(), recent.last()) {
        (Some((a, ha, _)), Some((b, hb, _))) if a > b => format!(
            "{:.2} s",
            ha.timestamp_ms.saturating_sub(hb.timestamp_ms) as f64 / 1000.0 / (a - b) as f64
        ),
        _ => "–".into(),
    };
    let sync = match status.sync_start {
        Some(_) => format!("syncing: {} of {}", c.head, status.highest_known),
        None => "<span class=\"ok\">in sync</span>".into(),
    };
    let nodes = jinlian_executor::system::consensus_nodes(&c.state()).map_err(internal)?;
    let mut body = format!(
        "<h1>Group {} · chain id {}</h1><div class=\"tiles\">{}{}{}{}{}{}{}</div>",
        c.g.id,
        c.g.exec.chain_id,
        tile("Height", &c.head.to_string()),
        tile(
            "Transactions",
            &format!("{} <small class=\"muted\">({} failed)</small>", totals.txs, totals.failed)
        ),
        tile("TPS, last minute", &format!("{tps:.1}")),
        tile("Block time (recent)", &block_time),
        tile("Consensus view", &status.view.to_string()),
        tile(
            "This node",
            if status.sealer {
                "sealer"
            } else if nodes.iter().any(|(id, _)| *id == status.node_id) {
                "observer"
            } else {
                "<span class=\"bad\">not a member</span>"
            }
        ),
        tile("Sync", &sync),
    );
    let _ = write!(
        body,
        "<p class=\"muted\">Last block {}.</p>",
        if newest > 0 { ago(newest) } else { "–".into() }
    );

    // Nodes of the group and what this node knows of them.
    body.push_str(
        "<h2>Nodes</h2><table><tr><th>Node id</th><th>Role</th><th>Status</th><th>Height</th></tr>",
    );
    for (id, role) in &nodes {
        let (state, height) = if *id == status.node_id {
            ("<span class=\"ok\">this node</span>".to_string(), c.head.to_string())
        } else if let Some(p) = status.peers.iter().find(|p| p.node_id == *id) {
            ("<span class=\"ok\">connected</span>".to_string(), p.height.to_string())
        } else {
            ("<span class=\"bad\">not connected</span>".to_string(), "–".to_string())
        };
        let _ = write!(
            body,
            "<tr><td class=\"mono wrap\" title=\"{}\">{}</td><td>{}</td><td>{state}</td><td>{height}</td></tr>",
            PublicKey(*id),
            short_id(id),
            match role {
                NodeRole::Sealer => "sealer",
                NodeRole::Observer => "observer",
            },
        );
    }
    body.push_str("</table>");

    body.push_str("<h2>Activity</h2><div class=\"charts\">");
    for svg in charts(&recent)? {
        body.push_str(&svg);
    }
    body.push_str("</div>");

    let latest: Vec<_> = recent.iter().take(10).cloned().collect();
    let _ = write!(body, "<h2>Latest blocks</h2>{}", blocks_table(c, &latest));
    let (txs, _) = recent_txs(c, None, 10)?;
    let _ = write!(body, "<h2>Latest transactions</h2>{}", txs_table(c, &txs));
    Ok(Html { title: "Overview".into(), body })
}

/// Transactions per second committed over the last minute (by the node's clock), reading back
/// at most [`RECENT_BLOCKS`] headers; if those do not reach back a minute, over the time they
/// cover.
fn live_tps(c: &Ctx<'_>) -> Res<f64> {
    let now = now_ms();
    let start = now.saturating_sub(60_000);
    let (mut txs, mut oldest) = (0u64, now);
    let mut h = c.head;
    let mut read = 0;
    while h > 0 && read < RECENT_BLOCKS {
        let Some((header, count)) = c.header(h)? else { break };
        if header.timestamp_ms < start {
            oldest = start;
            break;
        }
        txs += u64::from(count);
        oldest = header.timestamp_ms;
        h -= 1;
        read += 1;
    }
    if h == 0 || read == 0 {
        oldest = start;
    }
    Ok(txs as f64 / (now.saturating_sub(oldest).max(1_000) as f64 / 1000.0))
}

fn short_id(id: &[u8; 64]) -> String {
    let s = alloy_primitives::hex::encode(id);
    format!("{}…{}", &s[..12], &s[s.len() - 8..])
}

/// TPS over time, block time and transactions per block, over `recent` (newest first).
fn charts(recent: &[(u64, Header, u32)]) -> Res<Vec<String>> {
    use plotters::prelude::*;
    let oldest_first: Vec<_> = recent.iter().rev().collect();
    let newest = oldest_first.last().map_or(0, |(_, h, _)| h.timestamp_ms);
    let oldest = oldest_first.first().map_or(0, |(_, h, _)| h.timestamp_ms);
    // TPS per time bucket (at most 60 buckets), seconds before the newest block.
    let span_s = (newest.saturating_sub(oldest) / 1000).max(1);
    let bucket = span_s.div_ceil(60).max(1);
    let mut tps: BTreeMap<u64, u64> = BTreeMap::new();
    for (_, h, n) in &oldest_first {
        let age = (newest.saturating_sub(h.timestamp_ms) / 1000) / bucket;
        *tps.entry(age).or_default() += u64::from(*n);
    }
    let tps_pts: Vec<(f64, f64)> = (0..=span_s / bucket)
        .map(|b| (-((b * bucket) as f64), *tps.get(&b).unwrap_or(&0) as f64 / bucket as f64))
        .rev()
        .collect();
    let block_time: Vec<(f64, f64)> = oldest_first
        .windows(2)
        .map(|w| (w[1].0 as f64, w[1].1.timestamp_ms.saturating_sub(w[0].1.timestamp_ms) as f64))
        .collect();
    let per_block: Vec<(f64, f64)> =
        oldest_first.iter().map(|(h, _, n)| (*h as f64, f64::from(*n))).collect();
    let e = |e: DrawingAreaErrorKind<std::io::Error>| Fail::Internal(format!("chart: {e}"));
    let draw = |title: &str,
                x_desc: &str,
                y_desc: &str,
                pts: &[(f64, f64)],
                color: RGBColor|
     -> Res<String> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (380, 230)).into_drawing_area();
            root.fill(&WHITE).map_err(e)?;
            let (x0, x1) = match (pts.first(), pts.last()) {
                (Some(a), Some(b)) if b.0 > a.0 => (a.0, b.0),
                (Some(a), _) => (a.0 - 1.0, a.0 + 1.0),
                _ => (0.0, 1.0),
            };
            let ymax = pts.iter().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.15;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 15))
                .margin(10)
                .x_label_area_size(32)
                .y_label_area_size(46)
                .build_cartesian_2d(x0..x1, 0.0..ymax)
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_desc(x_desc)
                .y_desc(y_desc)
                .x_labels(5)
                .y_labels(5)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| {
                    if ymax < 10.0 { format!("{y:.1}") } else { format!("{y:.0}") }
                })
                .light_line_style(RGBColor(0xf0, 0xf1, 0xf3))
                .label_style(("sans-serif", 11))
                .draw()
                .map_err(e)?;
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(e)?;
            root.present().map_err(e)?;
        }
        Ok(svg)
    };
    Ok(vec![
        draw(
            "Transactions per second",
            "seconds before the last block",
            "tx/s",
            &tps_pts,
            RGBColor(0x8a, 0x1c, 0x1c),
        )?,
        draw("Block time", "block", "ms", &block_time, RGBColor(0x1f, 0x5f, 0xa8))?,
        draw("Transactions per block", "block", "txs", &per_block, RGBColor(0x17, 0x70, 0x2e))?,
    ])
}

fn pager(c: &Ctx<'_>, path: &str, newer: Option<u64>, older: Option<u64>) -> String {
    let mut s = String::from("<nav class=\"pages\">");
    if newer.is_some() {
        let _ = write!(s, "<a href=\"{}\">« Newest</a>", c.link(path));
    }
    if let Some(o) = older {
        let _ = write!(s, "<a href=\"{}\">Older »</a>", c.link_q(path, &format!("before={o}")));
    }
    s.push_str("</nav>");
    s
}

fn blocks(c: &Ctx<'_>, before: Option<u64>) -> Res<Html> {
    let rows = match before {
        Some(0) => Vec::new(),
        Some(b) => recent_headers(c, (b - 1).min(c.head), PAGE)?,
        None => recent_headers(c, c.head, PAGE)?,
    };
    let lowest = rows.last().map_or(0, |r| r.0);
    let body = format!(
        "<h1>Blocks</h1>{}{}",
        blocks_table(c, &rows),
        pager(c, "/blocks", before, (lowest > 0).then_some(lowest))
    );
    Ok(Html { title: "Blocks".into(), body })
}

fn block(c: &Ctx<'_>, id: &str, from: u64) -> Res<Html> {
    let height = if let Ok(n) = id.parse::<u64>() {
        n
    } else {
        let hash: B256 = id
            .parse()
            .map_err(|_| Fail::Bad(format!("{id:?} is neither a height nor a block hash")))?;
        c.v.height_of(&hash)
            .map_err(internal)?
            .ok_or_else(|| Fail::NotFound(format!("no block with hash {hash}")))?
            .0
    };
    let block = c.v.block(Height(height)).map_err(internal)?.ok_or_else(|| {
        Fail::NotFound(format!("no block at height {height} (the head is {})", c.head))
    })?;
    let h = &block.header;
    let hash = block.hash(c.suite);
    // The sealers of this block are those of the state before it, if that state is kept.
    let parent_kept = height
        .checked_sub(1)
        .filter(|p| *p == c.head || c.v.history_base().is_ok_and(|b| *p >= b.0));
    let sealers = match parent_kept {
        Some(p) => {
            jinlian_executor::system::sealers(&Snapshot(&c.v, (p != c.head).then_some(Height(p))))
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let signer = |i: u32| sealers.get(i as usize).map_or_else(|| format!("sealer #{i}"), short_id);
    let mut body = format!("<h1>Block {height}</h1><table>");
    let rows: Vec<(&str, String)> = vec![
        ("Hash", format!("<span class=\"mono wrap\" id=\"block-hash\">{hash:#x}</span>")),
        (
            "Parent",
            if height > 0 {
                format!(
                    "<a class=\"mono wrap\" href=\"{}\">{:#x}</a>",
                    c.link(&format!("/block/{}", height - 1)),
                    h.parent_hash
                )
            } else {
                "–".into()
            },
        ),
        ("Time", format!("{} ({})", utc(h.timestamp_ms), ago(h.timestamp_ms))),
        ("Transactions", block.txs.len().to_string()),
        ("Gas used / limit", format!("{} / {}", h.gas_used, h.gas_limit)),
        ("Proposer", signer(h.proposer)),
        ("Committed in view", block.certificate.view.0.to_string()),
        (
            "Signed by",
            block
                .certificate
                .signatures
                .iter()
                .map(|s| signer(s.sealer_index))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("State root", format!("<span class=\"mono wrap\">{:#x}</span>", h.state_root)),
        ("Transaction root", format!("<span class=\"mono wrap\">{:#x}</span>", h.tx_root)),
        ("Receipt root", format!("<span class=\"mono wrap\">{:#x}</span>", h.receipt_root)),
    ];
    for (k, v) in rows {
        let _ = write!(body, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    body.push_str("</table>");
    // A page of the block's transactions (a block may hold tens of thousands).
    let from = usize::try_from(from).unwrap_or(usize::MAX).min(block.txs.len());
    let end = (from + BLOCK_ROWS).min(block.txs.len());
    let mut rows = Vec::with_capacity(end - from);
    for (i, t) in block.txs[from..end].iter().enumerate() {
        let tx = jinlian_primitives::Transaction::decode(&t.raw, c.suite).map_err(internal)?;
        rows.push((height, (from + i) as u32, RecoveredTx { tx, sender: t.sender }));
    }
    let _ = write!(body, "<h2>Transactions</h2>{}", txs_table(c, &rows));
    if block.txs.len() > BLOCK_ROWS {
        let _ = write!(
            body,
            "<p class=\"muted\">Transactions {} to {} of {}.</p><nav class=\"pages\">",
            from,
            end.saturating_sub(1),
            block.txs.len()
        );
        if from > 0 {
            let back = from.saturating_sub(BLOCK_ROWS);
            let _ = write!(
                body,
                "<a href=\"{}\">« Previous</a>",
                c.link_q(&format!("/block/{height}"), &format!("from={back}"))
            );
        }
        if end < block.txs.len() {
            let _ = write!(
                body,
                "<a href=\"{}\">Next »</a>",
                c.link_q(&format!("/block/{height}"), &format!("from={end}"))
            );
        }
        body.push_str("</nav>");
    }
    let mut nav = String::from("<nav class=\"pages\">");
    if height > 0 {
        let _ = write!(
            nav,
            "<a href=\"{}\">« Block {}</a>",
            c.link(&format!("/block/{}", height - 1)),
            height - 1
        );
    }
    if height < c.head {
        let _ = write!(
            nav,
            "<a href=\"{}\">Block {} »</a>",
            c.link(&format!("/block/{}", height + 1)),
            height + 1
        );
    }
    nav.push_str("</nav>");
    body.push_str(&nav);
    Ok(Html { title: format!("Block {height}"), body })
}

fn txs(c: &Ctx<'_>, older: Option<&String>) -> Res<Html> {
    let cursor = match older {
        None => None,
        Some(o) => {
            let parsed =
                o.split_once('-').and_then(|(h, i)| Some((h.parse().ok()?, i.parse().ok()?)));
            Some(parsed.ok_or_else(|| Fail::Bad(format!("older={o:?}: expected HEIGHT-INDEX")))?)
        }
    };
    let (rows, lowest) = recent_txs(c, cursor, PAGE as usize)?;
    // The next page continues right after the last row shown, or below the blocks looked at.
    let next = match rows.last() {
        Some((h, i, _)) if rows.len() as u64 == PAGE => Some((*h, *i)),
        _ if lowest > 0 => Some((lowest, 0)),
        _ => None,
    };
    let from = cursor.map_or_else(
        || format!("the head (block {})", c.head),
        |(h, i)| format!("block {h}, before position {i}"),
    );
    let mut nav = String::from("<nav class=\"pages\">");
    if cursor.is_some() {
        let _ = write!(nav, "<a href=\"{}\">« Newest</a>", c.link("/txs"));
    }
    if let Some((h, i)) = next {
        let _ =
            write!(nav, "<a href=\"{}\">Older »</a>", c.link_q("/txs", &format!("older={h}-{i}")));
    }
    nav.push_str("</nav>");
    let body = format!(
        "<h1>Transactions</h1><p class=\"muted\">Newest first, from {from} (a page looks back over at most {RECENT_BLOCKS} blocks).</p>{}{nav}",
        txs_table(c, &rows),
    );
    Ok(Html { title: "Transactions".into(), body })
}

/// Event ABIs known without being told: the ERC-20/721 and ownership events.
fn well_known_events() -> Vec<Event> {
    [
        "event Transfer(address indexed from, address indexed to, uint256 value)",
        "event Approval(address indexed owner, address indexed spender, uint256 value)",
        "event ApprovalForAll(address indexed owner, address indexed operator, bool approved)",
        "event OwnershipTransferred(address indexed previousOwner, address indexed newOwner)",
    ]
    .iter()
    .filter_map(|s| Event::parse(s).ok())
    .collect()
}

/// The ABIs CNS holds for the versions behind the name a transaction called, by address.
fn cns_abis(c: &Ctx<'_>, to: &Address) -> BTreeMap<Address, JsonAbi> {
    let mut out = BTreeMap::new();
    let Ok(Some(route)) = jinlian_executor::system::cns::route_at(&c.state(), to) else {
        return out;
    };
    for entry in cns_entries(c, &route.name) {
        if let Ok(abi) = serde_json::from_str::<JsonAbi>(&entry.2) {
            out.insert(entry.1, abi);
        }
    }
    out
}

/// (version, address, ABI text) of each version registered under `name`.
fn cns_entries(c: &Ctx<'_>, name: &str) -> Vec<(String, Address, String)> {
    use alloy_sol_types::SolCall;
    let data = jinlian_executor::system::cns::ICns::selectByNameCall { name: name.to_string() }
        .abi_encode();
    // A bounded lookup: 10M gas reads at most ~1.6 MB of CNS records.
    let req = jinlian_executor::CallRequest {
        to: TxKind::Call(jinlian_executor::system::cns::CNS),
        data: data.into(),
        gas: Some(10_000_000),
        ..Default::default()
    };
    let Ok(Some(header)) = c.v.header(Height(c.head)) else { return Vec::new() };
    let block = jinlian_executor::BlockContext {
        height: c.head + 1,
        timestamp_ms: header.timestamp_ms,
        gas_limit: c.g.block_gas_limit,
        coinbase: Address::ZERO,
        parent_state_root: header.state_root,
    };
    let Ok(out) = jinlian_executor::call(&c.g.exec, &c.state(), &block, &req) else {
        return Vec::new();
    };
    let Ok(text) =
        jinlian_executor::system::cns::ICns::selectByNameCall::abi_decode_returns(&out.output)
    else {
        return Vec::new();
    };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&text)
    else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let version = i.get("version")?.as_str()?.to_string();
            let address: Address = i.get("address")?.as_str()?.parse().ok()?;
            let abi = i.get("abi").and_then(|a| a.as_str()).unwrap_or_default().to_string();
            Some((version, address, abi))
        })
        .collect()
}

/// A log decoded with a known event ABI, as `Name(arg = value, …)`.
fn decode_log(log: &Log, known: &[Event], abis: &BTreeMap<Address, JsonAbi>) -> Option<String> {
    // Large payloads are shown raw: decoding and printing them would cost more than it shows.
    if log.data.data.len() > MAX_DECODED_LOG {
        return None;
    }
    let topic0 = log.data.topics().first()?;
    let candidates =
        abis.get(&log.address).into_iter().flat_map(|abi| abi.events()).chain(known.iter());
    for ev in candidates {
        if ev.selector() != *topic0 {
            continue;
        }
        let Ok(decoded) = ev.decode_log(&log.data) else { continue };
        let (mut idx, mut body) = (decoded.indexed.iter(), decoded.body.iter());
        let args: Vec<String> = ev
            .inputs
            .iter()
            .map(|p| {
                let v = if p.indexed { idx.next() } else { body.next() };
                format!("{} = {}", p.name, v.map_or_else(|| "?".into(), crate::format::show_value))
            })
            .collect();
        let mut text = format!("{}({})", ev.name, args.join(", "));
        if text.len() > MAX_DECODED_LOG {
            let cut = (0..=MAX_DECODED_LOG).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text.truncate(cut);
            text.push('…');
        }
        return Some(text);
    }
    None
}

fn tx(c: &Ctx<'_>, hash: &str) -> Res<Html> {
    let hash: B256 =
        hash.parse().map_err(|_| Fail::Bad(format!("{hash:?} is not a transaction hash")))?;
    let found = c.v.transaction(&hash).map_err(internal)?;
    let Some((t, loc)) = found else {
        let handle = tokio::runtime::Handle::try_current().map_err(internal)?;
        let pooled =
            handle.block_on(c.g.backend.pool(PoolQuery { tx: Some(hash), ..PoolQuery::default() }));
        return match pooled.tx {
            Some(t) => Ok(Html {
                title: "Pending transaction".into(),
                body: format!(
                    "<h1>Transaction</h1><p><b>Pending</b>: in this node's pool, not in a block yet.</p>{}",
                    tx_fields(c, &t)
                ),
            }),
            None => Err(Fail::NotFound(format!(
                "no transaction {hash} in the chain or this node's pool"
            ))),
        };
    };
    let (receipt, _) =
        c.v.receipt(&hash).map_err(internal)?.ok_or_else(|| internal("receipt missing"))?;
    let mut body = format!(
        "<h1>Transaction</h1><p>In block {} at position {}.</p>{}",
        c.block_link(loc.height.0),
        loc.index,
        tx_fields(c, &t)
    );
    body.push_str(&receipt_section(c, &t, &receipt));
    Ok(Html { title: format!("Transaction {}", short(&hash)), body })
}

fn tx_fields(c: &Ctx<'_>, t: &RecoveredTx) -> String {
    let tx = &t.tx;
    let mut rows: Vec<(&str, String)> = vec![
        ("Hash", format!("<span class=\"mono wrap\" id=\"tx-hash\">{:#x}</span>", tx.hash())),
        ("From", c.addr_link(&t.sender)),
        ("To", tx_to(c, t)),
        ("Value", tx.value().to_string()),
        ("Gas limit", tx.gas_limit().to_string()),
    ];
    match tx.body() {
        TxBody::Consortium(ct) => {
            rows.push(("Envelope", "consortium (FISCO 2.x)".into()));
            rows.push(("Random id", ct.random_id.to_string()));
            rows.push(("Block limit", ct.block_limit.to_string()));
            rows.push(("Group", ct.group_id.to_string()));
        }
        _ => {
            rows.push(("Envelope", format!("Ethereum, type {}", crate::format::type_number(tx))));
            rows.push(("Nonce", tx.nonce().unwrap_or_default().to_string()));
        }
    }
    let input = tx.input();
    let shown = if input.len() > 4096 {
        format!("{}… ({} bytes)", hex(&input[..4096]), input.len())
    } else {
        hex(input)
    };
    rows.push(("Input", format!("<span class=\"mono wrap\">{shown}</span>")));
    let mut s = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(s, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    s.push_str("</table>");
    s
}

fn receipt_section(c: &Ctx<'_>, t: &RecoveredTx, r: &Receipt) -> String {
    let ok = r.is_success();
    let mut status_text = if ok {
        "<span class=\"ok\">success</span> (code 0)".to_string()
    } else {
        format!("<span class=\"bad\">failed</span> ({}, code {})", status::name(r.status), r.status)
    };
    if r.status == status::REVERT_INSTRUCTION
        && let Some(reason) = alloy_sol_types::decode_revert_reason(&r.output)
    {
        let _ =
            write!(status_text, ": {}", esc(reason.strip_prefix("revert: ").unwrap_or(&reason)));
    }
    let mut s = format!(
        "<h2>Receipt</h2><table><tr><th>Status</th><td id=\"tx-status\">{status_text}</td></tr><tr><th>Gas used</th><td>{}</td></tr>",
        r.gas_used
    );
    if let Some(a) = r.contract_address {
        let _ = write!(s, "<tr><th>Contract created</th><td>{}</td></tr>", c.addr_link(&a));
    }
    if !r.output.is_empty() {
        let _ =
            write!(s, "<tr><th>Output</th><td class=\"mono wrap\">{}</td></tr>", hex(&r.output));
    }
    s.push_str("</table>");
    let _ = write!(s, "<h2>Logs ({})</h2>", r.logs.len());
    if r.logs.is_empty() {
        return s;
    }
    let known = well_known_events();
    let abis = match t.tx.to() {
        TxKind::Call(to) => cns_abis(c, &to),
        TxKind::Create => BTreeMap::new(),
    };
    s.push_str("<table><tr><th>#</th><th>Address</th><th>Event</th><th>Topics and data</th></tr>");
    for (i, log) in r.logs.iter().enumerate() {
        let decoded = decode_log(log, &known, &abis)
            .map_or_else(|| "<span class=\"muted\">unknown event</span>".to_string(), |d| esc(&d));
        let topics: Vec<String> = log.data.topics().iter().map(|t| format!("{t:#x}")).collect();
        let _ = write!(
            s,
            "<tr><td>{i}</td><td>{}</td><td class=\"mono wrap\">{decoded}</td><td class=\"mono wrap\">{}<br>{}</td></tr>",
            c.addr_link(&log.address),
            topics.join("<br>"),
            hex(&log.data.data)
        );
    }
    s.push_str("</table>");
    s
}

fn address(c: &Ctx<'_>, a: &str) -> Res<Html> {
    let who: Address =
        a.parse().map_err(|_| Fail::Bad(format!("{a:?} is not an address (20 bytes, 0x hex)")))?;
    let acc = account(c, &who)?;
    let code = if acc.code_hash.is_zero() || acc.code_hash == alloy_primitives::KECCAK256_EMPTY {
        Vec::new()
    } else {
        c.state().get(&keys::code(&acc.code_hash)).map_err(internal)?.unwrap_or_default()
    };
    let system = jinlian_executor::system::SYSTEM_CONTRACTS.contains(&who);
    let route = jinlian_executor::system::cns::route_at(&c.state(), &who).map_err(internal)?;
    let kind = if system {
        "system contract"
    } else if route.is_some() {
        "CNS name"
    } else if code.is_empty() {
        "account"
    } else {
        "contract"
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"mono wrap\">{}</p><table><tr><th>Balance</th><td>{}</td></tr><tr><th>Nonce</th><td>{}</td></tr><tr><th>Code</th><td>{} bytes</td></tr></table>",
        esc(&kind[..1].to_uppercase()) + &kind[1..],
        who.to_checksum(None),
        acc.balance,
        acc.nonce,
        code.len()
    );
    if let Some(r) = &route {
        let _ = write!(
            body,
            "<h2>CNS name {}</h2><table><tr><th>Primary version</th><td>{}</td></tr>",
            esc(&r.name),
            c.addr_link(&r.primary)
        );
        if let Some((canary, pct)) = r.canary {
            let _ = write!(
                body,
                "<tr><th>Canary version</th><td>{} ({pct} % of callers)</td></tr>",
                c.addr_link(&canary)
            );
        }
        body.push_str("</table><table><tr><th>Version</th><th>Address</th></tr>");
        for (version, addr, _) in cns_entries(c, &r.name).into_iter().take(100) {
            let _ =
                write!(body, "<tr><td>{}</td><td>{}</td></tr>", esc(&version), c.addr_link(&addr));
        }
        body.push_str("</table>");
    }
    // Its recent transactions (a bounded look back, not an index).
    let (recent, lowest) = recent_txs(c, None, RECENT_TXS)?;
    let mine: Vec<_> = recent
        .into_iter()
        .filter(|(_, _, t)| t.sender == who || t.tx.to() == TxKind::Call(who))
        .take(PAGE as usize)
        .collect();
    let _ = write!(
        body,
        "<h2>Recent transactions</h2><p class=\"muted\">Sent to or from this address in blocks {lowest} to {} (the last {RECENT_TXS} transactions at most).</p>{}",
        c.head,
        txs_table(c, &mine)
    );
    Ok(Html { title: kind.to_string(), body })
}

fn accounts(c: &Ctx<'_>) -> Res<Html> {
    let (recent, lowest) = recent_txs(c, None, RECENT_TXS)?;
    let mut seen: BTreeMap<Address, u64> = BTreeMap::new();
    for (_, _, t) in &recent {
        *seen.entry(t.sender).or_default() += 1;
        if let TxKind::Call(to) = t.tx.to()
            && to != t.sender
        {
            *seen.entry(to).or_default() += 1;
        }
    }
    let mut rows: Vec<(Address, u64)> = seen.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut body = format!(
        "<h1>Accounts</h1><p class=\"muted\">Addresses active in blocks {lowest} to {} (the last {RECENT_TXS} transactions at most), busiest first.</p><table><tr><th>Address</th><th>Kind</th><th>Balance</th><th>Nonce</th><th>Transactions</th></tr>",
        c.head
    );
    for (a, n) in rows.iter().take(100) {
        let acc = account(c, a)?;
        let kind = if acc.code_hash.is_zero() || acc.code_hash == alloy_primitives::KECCAK256_EMPTY
        {
            if jinlian_executor::system::SYSTEM_CONTRACTS.contains(a) {
                "system contract"
            } else {
                "account"
            }
        } else {
            "contract"
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{kind}</td><td>{}</td><td>{}</td><td>{n}</td></tr>",
            c.addr_link(a),
            acc.balance,
            acc.nonce
        );
    }
    body.push_str("</table>");
    Ok(Html { title: "Accounts".into(), body })
}

fn contracts(c: &Ctx<'_>) -> Res<Html> {
    let (recent, lowest) = recent_txs(c, None, RECENT_TXS)?;
    let mut body = format!(
        "<h1>Contracts</h1><p class=\"muted\">Created in blocks {lowest} to {} (the last {RECENT_TXS} transactions at most), newest first.</p><table><tr><th>Contract</th><th>Created by</th><th>Transaction</th><th>Block</th></tr>",
        c.head
    );
    let mut any = false;
    for (h, _, t) in recent.iter().filter(|(_, _, t)| t.tx.to() == TxKind::Create) {
        let hash = t.tx.hash();
        let Some((r, _)) = c.v.receipt(&hash).map_err(internal)? else { continue };
        let Some(addr) = r.contract_address else { continue };
        any = true;
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.addr_link(&addr),
            c.addr_link(&t.sender),
            c.tx_link(&hash),
            c.block_link(*h)
        );
    }
    body.push_str("</table>");
    if !any {
        body.push_str("<p class=\"muted\">None.</p>");
    }
    body.push_str("<h2>System contracts</h2><table><tr><th>Address</th><th>Purpose</th></tr>");
    for (a, what) in [
        (jinlian_executor::system::SYSTEM_CONFIG, "system configuration"),
        (jinlian_executor::system::CONSENSUS, "sealers and observers"),
        (jinlian_executor::system::cns::CNS, "contract name service"),
        (jinlian_executor::system::PERMISSION, "permissions"),
        (jinlian_executor::system::LIFECYCLE, "contract freeze"),
        (jinlian_executor::system::governance::GOVERNANCE, "governance committee, account freeze"),
    ] {
        let _ = write!(body, "<tr><td>{}</td><td>{what}</td></tr>", c.addr_link(&a));
    }
    body.push_str("</table>");
    Ok(Html { title: "Contracts".into(), body })
}

/// Where a search leads: a block, a transaction or an address.
fn search(c: &Ctx<'_>, q: &str) -> Res<String> {
    let q = q.trim();
    if q.is_empty() {
        return Err(Fail::Bad(
            "type a block height, a block or transaction hash, or an address".into(),
        ));
    }
    // A height, decimal or short 0x hex (longer hex is a hash or an address).
    let height = q.parse::<u64>().ok().or_else(|| {
        q.strip_prefix("0x").filter(|h| h.len() <= 16).and_then(|h| u64::from_str_radix(h, 16).ok())
    });
    if let Some(n) = height {
        if n > c.head {
            return Err(Fail::NotFound(format!("no block {n} yet: the head is {}", c.head)));
        }
        return Ok(c.link(&format!("/block/{n}")));
    }
    let hex = q.strip_prefix("0x").unwrap_or(q);
    if hex.len() == 64
        && let Ok(h) = q.parse::<B256>()
    {
        if c.v.tx_location(&h).map_err(internal)?.is_some() {
            return Ok(c.link(&format!("/tx/{h}")));
        }
        if c.v.height_of(&h).map_err(internal)?.is_some() {
            return Ok(c.link(&format!("/block/{h}")));
        }
        let handle = tokio::runtime::Handle::try_current().map_err(internal)?;
        let pooled =
            handle.block_on(c.g.backend.pool(PoolQuery { tx: Some(h), ..PoolQuery::default() }));
        if pooled.tx.is_some() {
            return Ok(c.link(&format!("/tx/{h}")));
        }
        return Err(Fail::NotFound(format!("no block or transaction with hash {h}")));
    }
    if hex.len() == 40
        && let Ok(a) = q.parse::<Address>()
    {
        return Ok(c.link(&format!("/address/{a}")));
    }
    Err(Fail::NotFound(format!("{q:?} is not a block height, a hash or an address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_escaping() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(1_764_518_400_123), "2025-11-30 16:00:00.123 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00.000 UTC");
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
