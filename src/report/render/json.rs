//! JSON in the shape of SPEC section 6. Values are numbers (never strings),
//! suppressed values are `null`, shares are rounded to four decimals and
//! indicator shares to three.

use serde_json::{json, Value};

use crate::report::Report;

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

pub fn to_value(r: &Report) -> Value {
    let tables: Vec<Value> = r
        .tables
        .iter()
        .map(|t| {
            let rows: Vec<Value> = t
                .rows
                .iter()
                .map(|row| {
                    let mut v = json!({"key": row.key, "label": row.label, "values": row.values});
                    if let Some(s) = &row.shares {
                        v["shares"] =
                            json!(s.iter().map(|x| x.map(|x| round(x, 4))).collect::<Vec<_>>());
                    }
                    v
                })
                .collect();
            json!({
                "id": t.id,
                "title": t.title,
                "columns": t.columns,
                "column_keys": t.column_keys,
                "rows": rows,
                "total": t.total,
            })
        })
        .collect();
    let indicators: Vec<Value> = r
        .indicators
        .iter()
        .map(|i| {
            json!({
                "id": i.id,
                "intervention": i.intervention,
                "numerator": i.numerator,
                "denominator": i.denominator,
                "share": i.share.map(|s| round(s, 3)),
                "of_ten": i.of_ten,
                "phrase": i.phrase,
                "target": i.target.map(|t| round(t, 4)),
                "met": i.met,
                "too_few": i.too_few,
            })
        })
        .collect();
    let mut v = json!({
        "period": {"from": r.period.from.to_string(), "to": r.period.to.to_string()},
        "interventions": r.interventions,
        "tables": tables,
        "indicators": indicators,
    });
    if let Some(n) = r.suppress_below {
        v["suppress_below"] = json!(n);
    }
    v
}

pub fn render(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(r)).expect("a JSON value always serialises");
    s.push('\n');
    s
}
