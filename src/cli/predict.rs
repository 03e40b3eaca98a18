//! `gpulstm predict`: the next-day forecast of a saved model on a data file.

use anyhow::anyhow;

use super::args::PredictArgs;
use super::common::{runtime, say, usage, Failure};
use crate::checkpoint::Loaded;
use crate::data::{FeatureList, Series};
use crate::report::evaluate::next_trading_day;
use crate::train::protocol;

pub(super) fn predict(args: &PredictArgs) -> Result<(), Failure> {
    let loaded = crate::checkpoint::load_models(&args.model).map_err(usage)?;
    let series = load_series(args, &loaded)?;
    // Each model's scaling carries the transform it learnt; `forecast` inverts it from the last close.
    let transform = loaded
        .models
        .first()
        .map(|m| m.scaling.transform)
        .unwrap_or_default();
    let raw = protocol::raw_data(&series, loaded.lookback, transform);
    let forecast = protocol::forecast(&raw, &loaded.layout, &loaded.models).map_err(runtime)?;

    let last = series.len() - 1;
    // Seed-protocol models are told apart by their seeds, walk-forward ones by split (and seed).
    let one_seed = loaded.models.windows(2).all(|w| w[0].seed == w[1].seed);
    let ids: Vec<String> = loaded
        .models
        .iter()
        .map(|m| match (loaded.protocol.as_str(), one_seed) {
            ("seed", _) => format!("seed {}", m.seed),
            (_, true) => format!("split {}", m.model_id),
            _ => format!("split {} seed {}", m.model_id, m.seed),
        })
        .collect();
    let mut text = format!(
        "model: {} ({} protocol, {} model{} [{}], layers {}, look-back {}, gpulstm {})\n",
        args.model.display(),
        loaded.protocol,
        loaded.models.len(),
        crate::report::format::plural(loaded.models.len()),
        ids.join(", "),
        loaded.layout.spec.to_spec_string(),
        loaded.lookback,
        loaded.gpulstm_version
    );
    // The same words and number formats as `train`'s summary.
    use crate::report::format::{dollars, sig};
    use crate::report::summary::adjusted_note;
    text.push_str(&format!(
        "data:  {} ({} .. {}, {} rows); last {} {}{} on {}\n",
        series.source,
        series.dates[0],
        series.dates[last],
        series.len(),
        series.target_name,
        dollars(series.target[last]),
        adjusted_note(series.raw_last_target),
        series.dates[last]
    ));
    text.push_str(&format!(
        "forecast: {} close {}",
        next_trading_day(series.dates[last]),
        dollars(forecast.mean)
    ));
    if forecast.members.len() > 1 {
        text.push_str(&format!(
            " (mean of {} models: min {}, max {}, std {})",
            forecast.members.len(),
            dollars(forecast.min),
            dollars(forecast.max),
            sig(forecast.std, 3)
        ));
    }
    text.push_str(" (next weekday; holidays not modelled)\n");
    if let Some(warning) = stale_models(&series, loaded.trained_through.as_deref()) {
        text.push_str(&format!("          warning: {warning}\n"));
    }
    say(&text);
    Ok(())
}

/// `predict`'s version of `train`'s stale-forecast warning: the data runs on past the last day the
/// checkpoint's models trained or validated on.
fn stale_models(series: &Series, trained_through: Option<&str>) -> Option<String> {
    let through = chrono::NaiveDate::parse_from_str(trained_through?, "%Y-%m-%d").ok()?;
    let after = series.dates.iter().filter(|&&d| d > through).count();
    crate::report::stale::is_stale(after).then(|| {
        format!(
            "the models were trained on data up to {through}, {after} rows before this data ends: they \
             forecast from prices they were never trained near (train again, e.g. with --last-splits)"
        )
    })
}

/// The data file read for `loaded`'s models: the columns they were trained on unless the flags name
/// others; it must have their feature count and at least their look-back of rows.
fn load_series(args: &PredictArgs, loaded: &Loaded) -> Result<Series, Failure> {
    // Without explicit column flags, read the columns the models were trained on, in their order.
    let mut opts = args.data.options()?;
    let implied = args.data.features.is_none() || opts.target.is_none();
    if args.data.features.is_none() {
        // The recorded names are the expressions the models read: derived ones are computed again.
        let list = FeatureList::from_names(&loaded.feature_names).map_err(|e| {
            usage(anyhow!(
                "{}: its feature names do not parse: {e}",
                args.model.display()
            ))
        })?;
        opts.select(list);
    }
    if opts.target.is_none() {
        opts.target = Some(loaded.target_name.clone());
    }
    let series = args.data.load(&opts).map_err(|f| match f {
        Failure::Usage(e) if implied => usage(e.context(format!(
            "reading the columns the models were trained on (features {}; target {}; pass --features \
             and --target to read columns named differently)",
            loaded.feature_names.join(","),
            loaded.target_name
        ))),
        other => other,
    })?;
    let inputs = loaded.layout.spec.input_size;
    if series.feature_names.len() != inputs {
        return Err(usage(anyhow!(
            "{}: the models read {inputs} features ({}) but --features selects {} ({})",
            args.model.display(),
            loaded.feature_names.join(", "),
            series.feature_names.len(),
            series.feature_names.join(", ")
        )));
    }
    if series.len() < loaded.lookback {
        return Err(usage(anyhow!(
            "{}: {} rows, but the models need the last {} rows (their look-back)",
            series.source,
            series.len(),
            loaded.lookback
        )));
    }
    Ok(series)
}
