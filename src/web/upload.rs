//! Uploads (`multipart/form-data`): the import's CSV file and the export's
//! key file. Everything stays in memory: the file is read up to
//! [`UPLOAD_LIMIT`] (413 beyond, SPEC section 11) and never written to
//! disk. The text fields come back as a [`Form`], so the CSRF check and the
//! error summary work as for any other form.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::app::Shared;
use super::forms::{declared_length, Form, FORM_LIMIT};
use super::pages;

/// The largest upload accepted: 20 MiB of file and the form around it.
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024 + FORM_LIMIT;

pub struct Upload {
    pub form: Form,
    /// The one file field's content (empty when no file was chosen), in
    /// memory only, wiped when dropped.
    pub file: zeroize::Zeroizing<Vec<u8>>,
    pub file_name: String,
}

impl FromRequest<Shared> for Upload {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Shared) -> Result<Self, Self::Rejection> {
        let lang = super::session::lang_of(req.headers());
        if declared_length(req.headers()).is_some_and(|n| n > UPLOAD_LIMIT as u64) {
            return Err(pages::too_large_upload(lang));
        }
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            // A plain form (no file chosen, or a script's POST): read as
            // one, so a missing CSRF token is refused as everywhere else.
            let form = Form::from_request(req, app).await?;
            return Ok(Upload {
                form,
                file: zeroize::Zeroizing::new(Vec::new()),
                file_name: String::new(),
            });
        }
        let mut mp = Multipart::from_request(req, app)
            .await
            .map_err(|_| pages::bad_request(lang).into_response())?;
        let mut pairs = Vec::new();
        let mut file = zeroize::Zeroizing::new(Vec::new());
        let mut file_name = String::new();
        let mut text_bytes = 0usize;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(pages::too_large_upload(lang))
                }
                Err(_) => return Err(pages::bad_request(lang)),
            };
            let name = field.name().unwrap_or("").to_string();
            if field.file_name().is_some() {
                if !file.is_empty() {
                    return Err(pages::bad_request(lang));
                }
                file_name = field.file_name().unwrap_or("").to_string();
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(c)) => {
                            if file.len() + c.len() > UPLOAD_LIMIT - FORM_LIMIT {
                                return Err(pages::too_large_upload(lang));
                            }
                            file.extend_from_slice(&c);
                        }
                        Ok(None) => break,
                        Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(pages::too_large_upload(lang))
                        }
                        Err(_) => return Err(pages::bad_request(lang)),
                    }
                }
            } else {
                let value = field.text().await.map_err(|_| pages::bad_request(lang))?;
                text_bytes += name.len() + value.len();
                if text_bytes > FORM_LIMIT {
                    return Err(pages::too_large_upload(lang));
                }
                pairs.push((name, value));
            }
        }
        Ok(Upload {
            form: Form::with(pairs),
            file,
            file_name,
        })
    }
}
