//! The configuration-wire envelope of spec section 7: `{ version, config?:
//! { response, fetchedAt?, etag? }, bandits?: { response, ... },
//! precomputed?: { subjectKey, subjectAttributes, fetchedAt, response } }`,
//! in which each `response` is the JSON text an SDK received (or, in
//! Eppo's de-obfuscated fixtures, the parsed object). Loaders accept an
//! envelope wherever they accept the document it carries.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::ConfigurationError;

/// Which document of an envelope a loader wants.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part {
    /// `config`: a flag configuration.
    Flags,
    /// `bandits`: bandit models.
    BanditModels,
    /// `precomputed`: a precomputed configuration.
    Precomputed,
}

impl Part {
    fn field(self) -> &'static str {
        match self {
            Part::Flags => "config",
            Part::BanditModels => "bandits",
            Part::Precomputed => "precomputed",
        }
    }
}

/// Whether `document` is an envelope: only envelopes have a top-level
/// `version`.
pub(crate) fn is_envelope(document: &Value) -> bool {
    document.get("version").is_some()
}

/// The document an envelope carries as `part`, parsed; or `document`
/// itself when it is not an envelope.
pub(crate) fn open(document: &Value, part: Part) -> Result<Cow<'_, Value>, ConfigurationError> {
    if !is_envelope(document) {
        return Ok(Cow::Borrowed(document));
    }
    let field = part.field();
    let shape = |path: String, message: String| ConfigurationError::Shape { path, message };
    let Some(wrapper) = document.get(field) else {
        return Err(shape("$".into(), format!("expected a configuration-wire envelope with a \"{field}\" entry")));
    };
    match wrapper.get("response") {
        Some(Value::String(text)) => serde_json::from_str(text).map(Cow::Owned).map_err(|err| {
            shape(
                format!("$.{field}.response"),
                format!(
                    "expected JSON text, found text that does not parse (line {}, column {}): {err}",
                    err.line(),
                    err.column()
                ),
            )
        }),
        Some(object @ Value::Object(_)) => Ok(Cow::Borrowed(object)),
        _ => Err(shape(format!("$.{field}.response"), "expected the response as JSON text or an object".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plain_document_is_its_own_content() {
        let document = json!({"flags": {}});
        assert_eq!(*open(&document, Part::Flags).unwrap(), document);
    }

    #[test]
    fn responses_are_read_as_text_or_as_objects() {
        let text = json!({"version": 1, "config": {"response": "{\"flags\": {}}"}});
        assert_eq!(*open(&text, Part::Flags).unwrap(), json!({"flags": {}}));
        let object = json!({"version": 1, "precomputed": {"response": {"flags": {}}}});
        assert_eq!(*open(&object, Part::Precomputed).unwrap(), json!({"flags": {}}));
    }

    #[test]
    fn a_missing_part_or_bad_response_names_the_path() {
        let document = json!({"version": 1, "config": {"response": "{"}});
        let err = open(&document, Part::BanditModels).unwrap_err().to_string();
        assert!(err.contains("\"bandits\" entry"), "{err}");
        let err = open(&document, Part::Flags).unwrap_err().to_string();
        assert!(err.contains("$.config.response") && err.contains("expected JSON text"), "{err}");
    }
}
