//! The words of yuqing (PRODUCT.md) as types, and the configuration model with its
//! validation. No I/O: the binary reads files and hands their text here.
//!
//! Every closed set the product talks about (tiers, tones, levels, roles, key-content
//! categories, source kinds) is an enum here, so that adding a variant makes the compiler
//! point at every place that must learn it.

pub mod config;

/// A closed set of named values: stable ids for configuration, the API and the store,
/// Chinese names for the UI, `Display`/`FromStr` by id. Exported so that every crate's
/// closed sets (tiers here, case states in `yuqing-cases`) behave the same; the calling
/// crate must depend on `serde`.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => ($id:literal, $zh:literal)),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name { $($(#[$vmeta])* #[serde(rename = $id)] $variant),+ }

        impl $name {
            /// Every variant, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable identifier used in configuration, the API and the store.
            pub fn id(self) -> &'static str {
                match self { $($name::$variant => $id),+ }
            }

            /// The Chinese name shown in the UI.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }

            /// Parses the stable identifier.
            pub fn from_id(s: &str) -> Option<Self> {
                match s { $($id => Some($name::$variant),)+ _ => None }
            }

            /// The identifiers, for error messages.
            pub fn ids() -> String {
                [$($id),+].join(", ")
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.id())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::from_id(s).ok_or_else(|| format!("`{s}` is not one of: {}", Self::ids()))
            }
        }
    };
}

named_enum! {
    /// The notice's tiers of sources, by influence and closeness to the place (级别).
    pub enum Tier {
        Local => ("local", "本地"),
        Portal => ("portal", "商业门户"),
        Central => ("central", "中央媒体"),
        Provincial => ("provincial", "外省媒体"),
        HomeProvince => ("home-province", "本省媒体"),
        HomeCity => ("home-city", "本市媒体"),
        Other => ("other", "其他网站论坛"),
        Search => ("search", "搜索引擎"),
    }
}

named_enum! {
    /// Tone of an item (倾向).
    pub enum Tone {
        Positive => ("positive", "正面"),
        Neutral => ("neutral", "中性"),
        Negative => ("negative", "负面"),
    }
}

named_enum! {
    /// Level of an item or case (等级), ordered from least to most serious.
    pub enum Level {
        Ordinary => ("ordinary", "一般"),
        Important => ("important", "重要"),
        MajorSensitive => ("major-sensitive", "重大敏感"),
    }
}

named_enum! {
    /// Roles of users (PRODUCT.md "The users").
    pub enum Role {
        Member => ("member", "干部职工"),
        Office => ("office", "网宣办"),
        Leader => ("leader", "领导小组"),
        Admin => ("admin", "管理员"),
    }
}

named_enum! {
    /// The six key-content categories (重点内容类别) of the founding notice.
    pub enum Category {
        Policy => ("policy", "政策反馈"),
        Livelihood => ("livelihood", "民生问题"),
        Rumour => ("rumour", "谣言不实信息"),
        EconomySociety => ("economy-society", "影响经济社会"),
        IncidentElsewhere => ("incident-elsewhere", "外地重大事件"),
        ServiceComplaint => ("service-complaint", "服务不满"),
    }
}

named_enum! {
    /// How a source is collected. One module per kind lives in `yuqing-collect`.
    pub enum SourceKind {
        Feed => ("feed", "订阅源"),
        Page => ("page", "列表页"),
    }
}

impl Tier {
    /// Default influence weight of a tier, used when a source gives none and in level scoring.
    pub fn default_weight(self) -> f64 {
        match self {
            Tier::Local => 1.0,
            Tier::Central => 0.9,
            Tier::HomeCity => 0.9,
            Tier::HomeProvince => 0.8,
            Tier::Portal => 0.8,
            Tier::Provincial => 0.6,
            Tier::Other => 0.5,
            Tier::Search => 0.4,
        }
    }
}

impl Role {
    /// Admins have the office's rights (INTERFACES.md).
    pub fn is_office(self) -> bool {
        matches!(self, Role::Office | Role::Admin)
    }
}
