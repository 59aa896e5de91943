//! What a Graph entity exposes to query options: its properties, their types, and which
//! of them may be filtered, sorted, selected or expanded.

/// The type of a property as far as query options care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropType {
    String,
    /// An enum with its canonical camelCase members (matched case-insensitively on input).
    Enum(&'static [&'static str]),
    /// Edm.DateTimeOffset, stored and compared as `YYYY-MM-DDTHH:MM:SS.fffffffZ` (UTC, 7 digits).
    DateTime,
    Int64,
    Bool,
    /// A collection of strings: usable only through `any`/`all` lambdas.
    StringCollection,
}

/// One property. `name` is canonical; a complex sub-property is named with a slash
/// (`settings/isDelayedDeploymentEnabled`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub ty: PropType,
    pub filterable: bool,
    pub sortable: bool,
}

/// The query-visible shape of one entity type, for one API version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntitySchema {
    /// Entity type name for messages, e.g. `microsoft.graph.security.sensor`.
    pub entity: &'static str,
    /// Properties usable in `$filter` and `$orderby` (including slash-named sub-properties).
    pub properties: Vec<Property>,
    /// Top-level property names usable in `$select` (canonical spelling).
    pub selectable: Vec<&'static str>,
    /// Navigation properties usable in `$expand` (canonical spelling).
    pub expandable: Vec<&'static str>,
}

impl EntitySchema {
    /// Looks a filter/orderby property up case-insensitively (spec §5 D10).
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }
}
