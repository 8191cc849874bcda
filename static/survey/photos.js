// Photos are made small on the tablet before they are queued: a camera's 4 MB picture
// becomes a JPEG of about 1600 px on its long edge (typically under 400 KB), turned
// upright from its EXIF orientation, so slow networks carry only what the server keeps.
export const LONG_EDGE = 1600;
const QUALITY = 0.82;

function fit(width, height) {
  const scale = Math.min(1, LONG_EDGE / Math.max(width, height));
  return [Math.round(width * scale), Math.round(height * scale)];
}

// Returns { id, type, blob, bytes, width, height, sent } ready for the outbox.
export async function prepare(file) {
  // "from-image" applies the EXIF orientation, which the re-encoded JPEG no longer carries.
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const [width, height] = fit(bitmap.width, bitmap.height);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.imageSmoothingQuality = "high";
  context.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode"))), "image/jpeg", QUALITY),
  );
  return { id: crypto.randomUUID(), type: "image/jpeg", blob, bytes: blob.size, width, height, sent: false };
}
