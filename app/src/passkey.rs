//! The browser's passkeys (WebAuthn): making one and using one with the options the
//! server sent. Options and answers travel as JSON that the browser itself reads and
//! writes (`PublicKeyCredential.parse…OptionsFromJSON` and the credential's `toJSON`,
//! WebAuthn Level 3), so the app carries no WebAuthn encoding of its own.

use bmms_shared::api::{PasskeyAnswer, PasskeyChallenge};
use js_sys::{Function, Promise, Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::api::Problem;
use crate::text::t;

/// What to ask the browser for.
#[derive(Clone, Copy)]
pub enum Ask {
    /// A new passkey (`navigator.credentials.create`).
    Make,
    /// One of the passkeys it holds (`navigator.credentials.get`).
    Use,
}

fn credential_class() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &"PublicKeyCredential".into()).ok().filter(|class| class.is_function())
}

/// Whether this browser can make and use passkeys the way BMMS asks.
pub fn supported() -> bool {
    credential_class().is_some_and(|class| {
        ["parseCreationOptionsFromJSON", "parseRequestOptionsFromJSON"]
            .into_iter()
            .all(|name| Reflect::get(&class, &name.into()).is_ok_and(|f| f.is_function()))
    })
}

/// A method of `target` by name, called with `argument`.
fn call(target: &JsValue, name: &str, argument: &JsValue) -> Result<JsValue, JsValue> {
    let method: Function = Reflect::get(target, &name.into())?.dyn_into()?;
    method.call1(target, argument)
}

/// Why the browser gave no passkey, in words for the person.
fn refusal(error: JsValue) -> String {
    let name = Reflect::get(&error, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "AbortError" => t().security.passkey_cancelled.to_owned(),
        "InvalidStateError" => t().security.passkey_exists.to_owned(),
        _ => Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| t().security.passkey_unsupported.to_owned()),
    }
}

async fn ask(ask: Ask, options: &serde_json::Value) -> Result<serde_json::Value, JsValue> {
    let class = credential_class().ok_or_else(|| JsValue::from_str(t().security.passkey_unsupported))?;
    let (parse, method) = match ask {
        Ask::Make => ("parseCreationOptionsFromJSON", "create"),
        Ask::Use => ("parseRequestOptionsFromJSON", "get"),
    };
    let public_key = call(&class, parse, &JSON::parse(&options["publicKey"].to_string())?)?;
    let request = js_sys::Object::new();
    Reflect::set(&request, &"publicKey".into(), &public_key)?;
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into())?;
    let credentials = Reflect::get(&navigator, &"credentials".into())?;
    let promise: Promise = call(&credentials, method, &request)?.dyn_into()?;
    let credential = JsFuture::from(promise).await?;
    // JSON.stringify calls the credential's toJSON.
    let text = JSON::stringify(&credential)?.as_string().unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Runs the browser's side of a ceremony the server began (`challenge`): the answer to
/// send back, or why there is none, in words for the person.
pub async fn answer(challenge: Result<PasskeyChallenge, Problem>, kind: Ask) -> Result<PasskeyAnswer, String> {
    let challenge = challenge?;
    let credential = ask(kind, &challenge.options).await.map_err(refusal)?;
    Ok(PasskeyAnswer { ceremony: challenge.ceremony, credential })
}
