use super::gen::{generate, GenConfig};
use super::*;
use yuqing_text::simhash::simhash;

const ORIGINAL_T: &str = "泰和县发放耕地地力保护补贴 亩均一百二十元";
const ORIGINAL: &str = "泰和县财政局近日发布通知，2024年度耕地地力保护补贴资金已全部拨付到位，全县共发放补贴资金3860万元，涉及农户5.2万户，补贴标准为每亩一百二十元。
据泰和县财政局副局长王建华介绍，今年的补贴面积以二轮土地承包面积为基础，扣除已经转为建设用地、长期抛荒和改变用途的耕地，由各乡镇逐村逐户核实后张榜公示七天，群众无异议后再报县里审核。补贴资金全部通过惠民惠农财政补贴资金“一卡通”直接发放到农户社保卡账户，不经过村组干部之手。
王建华提醒，农户如发现补贴金额与公示不符，或者社保卡被冻结导致发放失败，可以向所在乡镇财政所反映，也可以拨打县财政局监督电话。县里将在下月组织对沙溪镇等六个乡镇开展补贴发放情况专项抽查，重点检查虚报面积、优亲厚友等问题。";
const FOLLOW_T: &str = "泰和县耕地地力补贴抽查结果公布 沙溪镇追回虚报资金";
const FOLLOW: &str = "泰和县耕地地力保护补贴专项抽查日前结束。抽查组在沙溪镇龙源村发现，有三户农户把已经流转给合作社并改种苗木的耕地继续申报补贴，虚报面积四十余亩，涉及补贴资金五千余元，目前资金已全部追回。
泰和县财政局副局长王建华表示，下一步将引入卫星遥感数据比对耕地用途，对连续两年抽查发现问题的村，取消村干部年度评优资格。龙源村村民李秀英说，公示名单贴在村部门口，大家都能看到谁领了多少，这样心里踏实。";
/// Same topic, another county, another story.
const OTHER_T: &str = "崇信县召开惠民惠农补贴发放推进会 要求不漏户不错发";
const OTHER: &str = "本报讯 近日，崇信县财政局召开惠民惠农补贴发放工作推进会，对全县补贴发放工作进行再部署。会议要求，各乡镇财政所要严格按照核定面积和补贴标准，及时将补贴资金发放到农户“一卡通”账户，做到不漏户、不错发。
会上，崇信县财政局局长赵德明通报了上半年补贴发放中群众反映的问题，包括部分农户银行卡信息错误导致发放失败、个别村组公示不及时等，并逐一明确了整改时限和责任人。
会议强调，补贴资金是党和政府惠及农民的重要政策，各单位要增强责任意识，畅通群众咨询投诉渠道。";

fn t(h: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_704_067_200, 0).unwrap_or_default() + TimeDelta::hours(h)
}

struct Harness {
    terms: KeyTerms,
    grouper: EventGrouper,
}

impl Harness {
    fn new(cfg: GrouperConfig) -> Harness {
        let mut terms = KeyTerms::new(TermConfig::default());
        // Some background so that the idf means something.
        for seed in gen::seeds() {
            terms.signature(&seed.title, &seed.body);
        }
        Harness { terms, grouper: EventGrouper::new(cfg) }
    }

    fn add(&mut self, id: u64, h: i64, title: &str, content: &str, source: &str, tier: Tier) -> Assignment {
        let Signature { terms, anchors } = self.terms.signature(title, content);
        let item = ItemSig {
            id,
            simhash: Some(simhash(&format!("{title}\n{content}"))),
            terms,
            anchors,
            at: t(h),
            source: source.to_string(),
            tier,
        };
        self.grouper.assign(&item)
    }
}

fn repost_of(body: &str) -> String {
    let cut: Vec<&str> = body.split('\n').collect();
    format!("（本网讯）据南江日报报道，{}\n责任编辑：陈静", cut[..cut.len() - 1].join("\n"))
}

#[test]
fn repost_joins_its_original() {
    let mut h = Harness::new(GrouperConfig::default());
    let a = h.add(1, 0, ORIGINAL_T, ORIGINAL, "泰和县人民政府网", Tier::Local);
    assert_eq!(a, Assignment { event_id: 1, reason: Reason::New });
    assert_eq!(a.joined(), None);
    let b = h.add(2, 5, "重磅！泰和县耕地补贴每亩一百二十元", &repost_of(ORIGINAL), "网易新闻", Tier::Portal);
    assert_eq!(b, Assignment { event_id: 1, reason: Reason::Repost { of: 1 } });
    let c = h.add(3, 9, ORIGINAL_T, &repost_of(ORIGINAL), "新浪新闻", Tier::Portal);
    assert_eq!(c.event_id, 1);
    let s = h.grouper.event(1).cloned().unwrap_or_else(|| panic!("event 1 is active"));
    // Merging reposts keeps how hot the story is.
    assert_eq!((s.first_item, s.first_source.as_str(), s.first_tier, s.items), (1, "泰和县人民政府网", Tier::Local, 3));
    assert_eq!(s.sources_per_tier.get(&Tier::Portal), Some(&2));
    assert_eq!(s.sources_per_tier.get(&Tier::Local), Some(&1));
    assert_eq!(s.timeline, vec![(t(0), 1), (t(5), 1), (t(9), 1)]);
    assert_eq!(s.last_at, t(9));
}

#[test]
fn follow_up_joins_and_same_topic_story_does_not() {
    let mut h = Harness::new(GrouperConfig::default());
    h.add(1, 0, ORIGINAL_T, ORIGINAL, "泰和县人民政府网", Tier::Local);
    let o = h.add(2, 3, OTHER_T, OTHER, "崇信县人民政府网", Tier::Local);
    assert_eq!(o.reason, Reason::New, "another county's subsidy story is not this one");
    eprintln!(
        "{:?}\n{:?}",
        h.grouper.events.get(&1).map(|e| (&e.centroid, &e.anchors)),
        h.terms.peek(FOLLOW_T, FOLLOW)
    );
    let f = h.add(3, 30, FOLLOW_T, FOLLOW, "泰和县人民政府网", Tier::Local);
    assert_eq!(f.event_id, 1, "{f:?}");
    assert!(
        matches!(f.reason, Reason::FollowUp { score } if score >= GrouperConfig::default().follow_up_threshold),
        "{f:?}"
    );
}

#[test]
fn window_expires_events_and_band_entries() {
    let cfg = GrouperConfig { window: TimeDelta::hours(24), ..GrouperConfig::default() };
    let mut h = Harness::new(cfg);
    h.add(1, 0, ORIGINAL_T, ORIGINAL, "泰和县人民政府网", Tier::Local);
    // An unrelated item two days later moves time on: event 1 and its band entries go.
    h.add(2, 48, OTHER_T, OTHER, "崇信县人民政府网", Tier::Local);
    assert!(h.grouper.event(1).is_none());
    assert_eq!(h.grouper.recent_items(), 1);
    // A repost now is a new event: the story went quiet longer than the window.
    let r = h.add(3, 49, ORIGINAL_T, &repost_of(ORIGINAL), "网易新闻", Tier::Portal);
    assert_eq!(r.reason, Reason::New);
    // Within the window, a late repost still joins (time is the items', not a clock).
    let r = h.add(4, 60, ORIGINAL_T, &repost_of(ORIGINAL), "新浪新闻", Tier::Portal);
    assert_eq!(r, Assignment { event_id: 3, reason: Reason::Repost { of: 3 } });
}

#[test]
fn short_items_without_fingerprint_can_still_follow_up() {
    let mut h = Harness::new(GrouperConfig::default());
    h.add(1, 0, ORIGINAL_T, ORIGINAL, "泰和县人民政府网", Tier::Local);
    let Signature { terms, anchors } = h.terms.signature("泰和县耕地地力保护补贴抽查 王建华回应", "");
    let a = h.grouper.assign(&ItemSig {
        id: 2,
        simhash: None,
        terms,
        anchors,
        at: t(2),
        source: "泰和县论坛".into(),
        tier: Tier::Other,
    });
    assert_eq!(a.event_id, 1, "{a:?}");
}

fn signatures(items: &[gen::GenItem]) -> Vec<ItemSig> {
    let mut terms = KeyTerms::new(TermConfig::default());
    items
        .iter()
        .map(|i| {
            let Signature { terms: t, anchors } = terms.signature(&i.title, &i.content);
            ItemSig {
                id: i.id,
                simhash: Some(simhash(&format!("{}\n{}", i.title, i.content))),
                terms: t,
                anchors,
                at: i.at,
                source: i.source.clone(),
                tier: i.tier,
            }
        })
        .collect()
}

fn run(sigs: &[ItemSig], cfg: GrouperConfig) -> (Vec<Assignment>, EventGrouper) {
    let mut g = EventGrouper::new(cfg);
    let out = sigs.iter().map(|s| g.assign(s)).collect();
    (out, g)
}

#[test]
fn replay_gives_the_same_events() {
    let items = generate(&GenConfig { items: 400, ..GenConfig::default() });
    // Fingerprints are stored and replayed as they were; key terms are recomputed.
    let sigs = signatures(&items);
    let again = signatures(&items);
    assert!(sigs.iter().zip(&again).all(|(a, b)| a.terms == b.terms));
    let (a, ga) = run(&sigs, GrouperConfig::default());
    let (b, gb) = run(&sigs, GrouperConfig::default());
    assert_eq!(a, b);
    assert_eq!(ga.active(), gb.active());
    // And the grouping is mostly right: most items of a story share one event.
    let joined = a.iter().filter(|x| x.joined().is_some()).count();
    assert!(joined > items.len() / 2, "{joined} of {}", items.len());
}

#[test]
fn active_events_are_capped() {
    let items = generate(&GenConfig { items: 400, ..GenConfig::default() });
    let cfg = GrouperConfig { max_active_events: 10, max_recent_items: 50, ..GrouperConfig::default() };
    let mut g = EventGrouper::new(cfg);
    for sig in signatures(&items) {
        g.assign(&sig);
        assert!(g.active_events() <= 10);
        assert!(g.recent_items() <= 50);
        // Every indexed term lists at least one event, and only active ones.
        assert!(g.postings.values().all(|l| !l.is_empty() && l.iter().all(|e| g.events.contains_key(e))));
    }
    assert!(g.indexed_terms() <= 10 * g.config().top_terms);
}

#[test]
fn timeline_is_bounded_and_ordered() {
    let mut v = Vec::new();
    for h in [0, 1, 1, 5, 3, 7, 8] {
        add_hour(&mut v, t(h), 4);
    }
    assert_eq!(v, vec![(t(3), 1), (t(5), 1), (t(7), 1), (t(8), 1)]);
}
