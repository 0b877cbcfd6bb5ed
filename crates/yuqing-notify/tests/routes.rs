mod common;

use common::{alert, route};
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_notify::{channels_for, route_matches};

#[test]
fn route_filters_all_must_hold() {
    let a = alert(); // important, negative, local, livelihood+policy, rule 上犹财政
    type Edit = fn(&mut yuqing_core::config::RouteConfig);
    let table: Vec<(&str, Edit, bool)> = vec![
        ("no filters", |_| {}, true),
        ("tone matches", |r| r.tone = Some(Tone::Negative), true),
        ("tone differs", |r| r.tone = Some(Tone::Positive), false),
        ("min_level below", |r| r.min_level = Some(Level::Ordinary), true),
        ("min_level equal", |r| r.min_level = Some(Level::Important), true),
        ("min_level above", |r| r.min_level = Some(Level::MajorSensitive), false),
        ("rule listed", |r| r.rules = vec!["别的".into(), "上犹财政".into()], true),
        ("rule not listed", |r| r.rules = vec!["别的".into()], false),
        ("category intersects", |r| r.categories = vec![Category::Rumour, Category::Policy], true),
        ("category disjoint", |r| r.categories = vec![Category::Rumour], false),
        ("tier listed", |r| r.tiers = vec![Tier::Central, Tier::Local], true),
        ("tier not listed", |r| r.tiers = vec![Tier::Central], false),
        (
            "all set and holding",
            |r| {
                r.tone = Some(Tone::Negative);
                r.min_level = Some(Level::Important);
                r.rules = vec!["上犹财政".into()];
                r.categories = vec![Category::Livelihood];
                r.tiers = vec![Tier::Local];
            },
            true,
        ),
        (
            "all set, one failing",
            |r| {
                r.tone = Some(Tone::Negative);
                r.min_level = Some(Level::Important);
                r.rules = vec!["上犹财政".into()];
                r.categories = vec![Category::Livelihood];
                r.tiers = vec![Tier::Portal];
            },
            false,
        ),
    ];
    for (name, edit, want) in table {
        let mut r = route(&["x"]);
        edit(&mut r);
        assert_eq!(route_matches(&r, &a), want, "{name}");
    }
}

#[test]
fn an_alert_without_rules_or_categories_fails_those_filters() {
    let mut a = alert();
    a.rules.clear();
    a.categories.clear();
    let mut r = route(&["x"]);
    r.rules = vec!["上犹财政".into()];
    assert!(!route_matches(&r, &a));
    let mut r = route(&["x"]);
    r.categories = vec![Category::Livelihood];
    assert!(!route_matches(&r, &a));
}

#[test]
fn channels_are_deduplicated_in_order() {
    let a = alert();
    let mut only_positive = route(&["never"]);
    only_positive.tone = Some(Tone::Positive);
    let routes = vec![route(&["mail", "hook"]), only_positive, route(&["hook", "wecom", "mail"])];
    assert_eq!(channels_for(&routes, &a), vec!["mail", "hook", "wecom"]);
    assert!(channels_for(&[], &a).is_empty());
}

/// Spike routes (`spikes = true`) carry spikes only, filtered by rules and categories;
/// every other route carries items exactly as before.
#[test]
fn spike_routes_carry_spikes_and_item_routes_do_not() {
    let item = alert();
    let mut plain = route(&["items"]);
    plain.rules = vec!["上犹财政".into()];
    let mut spikes = route(&["duty"]);
    spikes.spikes = true;
    let mut livelihood = route(&["duty", "leaders"]);
    livelihood.spikes = true;
    livelihood.categories = vec![Category::Livelihood];
    let mut by_rule = route(&["rule-hook"]);
    by_rule.spikes = true;
    by_rule.rules = vec!["上犹财政".into()];
    let routes = vec![plain.clone(), spikes.clone(), livelihood.clone(), by_rule.clone()];
    // An item goes where it went before: the spike routes are not for it.
    assert_eq!(channels_for(&routes, &item), vec!["items"]);
    assert!(!route_matches(&spikes, &item));
    // A spike alert never goes to an item route, whatever its fields.
    let mut spike = alert();
    spike.kind = yuqing_notify::AlertKind::Spike;
    assert!(!route_matches(&plain, &spike));
    // A rule's spike carries the rule and its category.
    assert_eq!(
        yuqing_notify::spike_channels_for(&routes, &["上犹财政".into()], &[Category::Livelihood]),
        vec!["duty", "leaders", "rule-hook"]
    );
    // A category's spike carries no rule: routes filtering on rules do not get it.
    assert_eq!(yuqing_notify::spike_channels_for(&routes, &[], &[Category::Livelihood]), vec!["duty", "leaders"]);
    assert_eq!(yuqing_notify::spike_channels_for(&routes, &[], &[Category::Rumour]), vec!["duty"]);
    assert!(yuqing_notify::spike_channels_for(&[plain], &["上犹财政".into()], &[Category::Livelihood]).is_empty());
}
