//! The sentences about the baselines, the return-space scores and the trading view that both the printed summary and
//! report.md open with, written once.

use super::format::{dollars, percent, sig, signed};
use super::metrics_json::Evaluation;

/// The baselines on the model's days, the best of them, and whether the model beat it.
pub fn baselines(eval: &Evaluation) -> String {
    let p = &eval.pooled;
    let b = &p.baselines;
    let best = match b.best.as_str() {
        "drift" => &b.drift,
        "ridge" => &b.ridge,
        _ => &b.naive,
    };
    format!(
        "baselines on the same {} predictions (pooled RMSE): naive {}, drift {}, ridge (λ {}) {}; the \
         best is {} and the model {} it (RMSE {}, skill {} against it; {} against naive, {} against drift, \
         {} against ridge)",
        p.predictions,
        dollars(b.naive.rmse),
        dollars(b.drift.rmse),
        sig(eval.run.ridge_lambda, 3),
        dollars(b.ridge.rmse),
        b.best,
        if b.model_beats_best {
            "beat"
        } else {
            "did not beat"
        },
        dollars(p.model_rmse),
        signed(best.model_skill),
        signed(b.naive.model_skill),
        signed(b.drift.model_skill),
        signed(b.ridge.model_skill),
    )
}

/// The model's forecasts as returns: errors, direction and information coefficients.
pub fn returns(eval: &Evaluation) -> String {
    let p = &eval.pooled;
    let r = &p.returns;
    format!(
        "as next-day returns (model learnt {}): RMSE {}, MAE {}, direction {}; IC pooled {} (Pearson), \
         {} (Spearman); IC above 0 on {} (Pearson) and {} (Spearman) of the splits; the ridge \
         baseline's pooled IC {}",
        eval.run.target_transform,
        sig(r.rmse, 3),
        sig(r.mae, 3),
        percent(r.directional_accuracy),
        signed(r.ic_pearson),
        signed(r.ic_spearman),
        percent(p.ic_pearson_positive_share),
        percent(p.ic_spearman_positive_share),
        signed(p.baselines.ridge.returns.ic_pearson),
    )
}

/// The trading view in one line: the model's signals after costs against buy-and-hold and ridge.
pub fn trading(eval: &Evaluation) -> String {
    let t = &eval.trading;
    format!(
        "traded ({}): the model's signals {} buy-and-hold after costs over {} days: cumulative {} \
         against {} (ridge's signals {}), annualised Sharpe {} against {} (ridge {}), maximum drawdown {} \
         against {}, turnover {}, hit rate {}; better than buy-and-hold on {} of the splits",
        t.rule,
        if t.model_beats_buy_and_hold {
            "beat"
        } else {
            "did not beat"
        },
        t.model.days,
        percent(t.model.cumulative_return),
        percent(t.buy_and_hold.cumulative_return),
        percent(t.ridge.cumulative_return),
        sig(t.model.sharpe, 3),
        sig(t.buy_and_hold.sharpe, 3),
        sig(t.ridge.sharpe, 3),
        percent(t.model.max_drawdown),
        percent(t.buy_and_hold.max_drawdown),
        sig(t.model.turnover, 4),
        percent(t.model.hit_rate),
        percent(t.splits_model_beats_buy_and_hold),
    )
}
