-- sticker-service (services/sticker) exists now: its role is narrowed to what it does — read the
-- two catalogue tables — and the rows it turns into URLs are constrained to the shapes it serves.
--
-- The service builds every URL as STICKER_BASE_URL + "/" + a stored relative path (thumbnail:
-- "<pack>/thumb.svg"; image_file: "<file>" under the pack's directory). A stored value that was
-- an absolute URL, had a "..", a query or an odd character would put something other than our own
-- image behind the URL every member's browser fetches, so the database refuses such rows; the
-- service checks again and skips (and logs) a row that slipped through an older constraint.
-- Ids are subject tokens: a pack id is the {product} token of stickers.product.{product}.
ALTER TABLE sticker_products
    ADD CONSTRAINT sticker_products_id_token CHECK (id ~ '^[a-z0-9-]{1,64}$'),
    ADD CONSTRAINT sticker_products_thumbnail_relative
        CHECK (thumbnail ~ '^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(/[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)*$');
ALTER TABLE stickers
    ADD CONSTRAINT stickers_id_token CHECK (id ~ '^[a-z0-9-]{1,64}$'),
    ADD CONSTRAINT stickers_image_file_relative
        CHECK (image_file ~ '^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(/[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)*$');

-- SELECT on its two tables and nothing else (0003 granted the same ahead of the service; this
-- states the whole grant in the file that adds the service, as 0004 did for app-registry).
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "sticker-service";
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM "sticker-service";
GRANT SELECT ON sticker_products, stickers TO "sticker-service";
