//! The sentences of photos: taking them in a record, sending them, and where they stand
//! (docs/user-guide.md, "Photos").

pub struct PhotoText {
    pub take: &'static str,
    pub choose: &'static str,
    pub none_yet: &'static str,
    pub saved: fn(u64) -> String,
    pub shrinking: &'static str,
    pub unreadable: &'static str,
    pub lost: &'static str,
    pub not_moving: &'static str,
    pub remove: &'static str,
    pub photo_of: fn(usize) -> String,
    pub waiting: fn(usize) -> String,
    pub sending: fn(u64, u64) -> String,
    pub held: fn(usize, u64, usize) -> String,
    pub forget_sent: &'static str,
    pub forgotten: fn(usize) -> String,
    /// At the desk: a photo the officer's phone has not sent yet.
    #[cfg_attr(not(feature = "desk"), allow(dead_code))]
    pub on_its_way: &'static str,
}

/// Kilobytes as people read them on a phone.
pub fn kilobytes(bytes: u64) -> String {
    format!("{} KB", bytes.div_ceil(1000))
}

pub static PHOTOS_EN: PhotoText = PhotoText {
    take: "Take a photo",
    choose: "Choose photos on this phone",
    none_yet: "No photos yet.",
    saved: |bytes| format!("Photo saved on this phone ({}); it is sent with the next sync.", kilobytes(bytes)),
    shrinking: "Making the photo smaller for sending…",
    unreadable: "This photo could not be read; try another one",
    lost: "A photo kept on this phone can no longer be read, so it cannot be sent. Take it again if you can.",
    not_moving: "A photo is not getting through; BMMS tries again shortly.",
    remove: "Remove this photo",
    photo_of: |n| format!("Photo {n}"),
    waiting: |n| if n == 1 { "1 photo to send".to_owned() } else { format!("{n} photos to send") },
    sending: |sent, total| format!("Sending a photo: {} of {}…", kilobytes(sent), kilobytes(total)),
    held: |count, bytes, waiting| {
        format!("{count} photo{} on this phone ({}), {waiting} still to send.", if count == 1 { "" } else { "s" }, kilobytes(bytes))
    },
    forget_sent: "Remove sent photos from this phone",
    forgotten: |n| format!("{n} photo{} removed from this phone; the server keeps them, and records show them from there when online.", if n == 1 { "" } else { "s" }),
    on_its_way: "Not on the server yet: it arrives when the officer's phone sends it.",
};
