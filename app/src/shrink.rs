//! Makes a photo small enough for 2G before it is stored: at most [`LONGEST_SIDE`] pixels
//! on its longest side, as a JPEG of at most [`TARGET_BYTES`] (quality lowered step by
//! step, then the size, until it fits). The browser decodes the camera's file (turned
//! upright by its EXIF orientation) and encodes the JPEG; nothing of this runs on the
//! server.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The longest side of a stored photo, in pixels: enough to read a signboard or see the
/// state of a road, at a size a phone sends over 2G.
pub const LONGEST_SIDE: u32 = 1600;
/// What a stored photo aims at, in bytes.
pub const TARGET_BYTES: usize = 300_000;
/// JPEG qualities tried in turn, best first.
const QUALITIES: [f64; 4] = [0.82, 0.7, 0.58, 0.46];

fn failed(err: JsValue) -> String {
    err.as_string().unwrap_or_else(|| format!("{err:?}"))
}

/// `file` (a photo from the camera or the gallery) shrunk to a JPEG of at most
/// [`LONGEST_SIDE`] pixels and, where it can be done, [`TARGET_BYTES`]: its bytes.
pub async fn shrink(file: &web_sys::Blob) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: web_sys::ImageBitmap =
        JsFuture::from(window.create_image_bitmap_with_blob(file).map_err(failed)?).await.map_err(failed)?.unchecked_into();
    let (width, height) = (bitmap.width().max(1), bitmap.height().max(1));
    let mut longest = LONGEST_SIDE.min(width.max(height));
    let mut smallest: Option<Vec<u8>> = None;
    // Each halving of the size after the qualities run out; three are plenty.
    for _ in 0..3 {
        let scale = f64::from(longest) / f64::from(width.max(height));
        let (w, h) = (((f64::from(width) * scale).round() as u32).max(1), ((f64::from(height) * scale).round() as u32).max(1));
        let canvas = draw(&bitmap, w, h)?;
        for quality in QUALITIES {
            let bytes = encode(&canvas, quality).await?;
            let fits = bytes.len() <= TARGET_BYTES;
            if smallest.as_ref().is_none_or(|s| bytes.len() < s.len()) {
                smallest = Some(bytes);
            }
            if fits {
                bitmap.close();
                return Ok(smallest.expect("just set"));
            }
        }
        longest = (longest * 3 / 4).max(320);
    }
    bitmap.close();
    smallest.ok_or_else(|| "the photo could not be read".to_owned())
}

fn draw(bitmap: &web_sys::ImageBitmap, width: u32, height: u32) -> Result<web_sys::HtmlCanvasElement, String> {
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let canvas: web_sys::HtmlCanvasElement = document.create_element("canvas").map_err(failed)?.unchecked_into();
    canvas.set_width(width);
    canvas.set_height(height);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").map_err(failed)?.ok_or("the browser cannot draw")?.unchecked_into();
    context.set_image_smoothing_enabled(true);
    context.draw_image_with_image_bitmap_and_dw_and_dh(bitmap, 0.0, 0.0, f64::from(width), f64::from(height)).map_err(failed)?;
    Ok(canvas)
}

async fn encode(canvas: &web_sys::HtmlCanvasElement, quality: f64) -> Result<Vec<u8>, String> {
    let mut outcome = Ok(());
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        outcome = canvas.to_blob_with_type_and_encoder_options(&resolve, "image/jpeg", &JsValue::from_f64(quality));
    });
    outcome.map_err(failed)?;
    let blob = JsFuture::from(promise).await.map_err(failed)?;
    let blob: web_sys::Blob = blob.dyn_into().map_err(|_| "the browser could not make a JPEG".to_owned())?;
    let buffer = JsFuture::from(blob.array_buffer()).await.map_err(failed)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A `blob:` address that shows `bytes` as an image (until the page closes).
pub fn object_url(bytes: &[u8], media_type: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}
