package visits

import "bytes"

// MaxPhotoBytes bounds one visit photo (2 MB); phones resize before upload.
const MaxPhotoBytes = 2 << 20

// PhotoType tells an image's type from its first bytes, whatever name or
// type the upload claimed: only JPEG, PNG and WebP are kept, so nothing a
// browser would run can be stored and served back.
func PhotoType(b []byte) (string, error) {
	switch {
	case len(b) == 0:
		return "", invalid("photo", "照片为空")
	case len(b) > MaxPhotoBytes:
		return "", invalid("photo", "照片不能超过%d MB，请压缩后再上传", MaxPhotoBytes>>20)
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "image/jpeg", nil
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png", nil
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "image/webp", nil
	}
	return "", invalid("photo", "只能上传JPEG、PNG或WebP格式的照片")
}
