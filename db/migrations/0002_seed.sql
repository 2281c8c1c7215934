-- Seed data (docs/system.md §2.5 and §5.2): sticker packs, the three apps, service accounts.
-- "ON CONFLICT DO NOTHING" keeps rows an operator changed by hand. Public rooms (general,
-- random, help) are deliberately not seeded: a room absent from `rooms` is public.

INSERT INTO sticker_products (id, name, thumbnail) VALUES
    ('pepe-frog', 'Pepe the Frog', 'pepe-frog/thumb.svg'),
    ('pusheen', 'Pusheen Cat', 'pusheen/thumb.svg'),
    ('party', 'Party Time', 'party/thumb.svg')
ON CONFLICT DO NOTHING;

INSERT INTO stickers (id, product_id, image_file, sort_order) VALUES
    ('pepe-happy', 'pepe-frog', 'happy.svg', 1),
    ('pepe-sad', 'pepe-frog', 'sad.svg', 2),
    ('pepe-angry', 'pepe-frog', 'angry.svg', 3),
    ('pepe-think', 'pepe-frog', 'think.svg', 4),
    ('pepe-laugh', 'pepe-frog', 'laugh.svg', 5),
    ('pusheen-hi', 'pusheen', 'hi.svg', 1),
    ('pusheen-love', 'pusheen', 'love.svg', 2),
    ('pusheen-eat', 'pusheen', 'eat.svg', 3),
    ('pusheen-sleep', 'pusheen', 'sleep.svg', 4),
    ('pusheen-angry', 'pusheen', 'angry.svg', 5),
    ('party-popper', 'party', 'popper.svg', 1),
    ('party-dance', 'party', 'dance.svg', 2),
    ('party-cake', 'party', 'cake.svg', 3),
    ('party-balloon', 'party', 'balloon.svg', 4)
ON CONFLICT DO NOTHING;

INSERT INTO apps (id, name, description, icon_url, component_url, subject_prefix) VALUES
    ('poll', 'Poll', 'Create polls and vote in a room', NULL,
     'http://localhost:8091/poll-app.js', 'app.poll'),
    ('whiteboard', 'Whiteboard', 'A shared drawing board per room', NULL,
     'http://localhost:8092/whiteboard-app.js', 'app.whiteboard'),
    ('kb', 'Knowledge Base', 'Rich-text pages shared by a room', NULL,
     'http://localhost:8093/kb-app.js', 'app.kb')
ON CONFLICT DO NOTHING;

INSERT INTO service_accounts (username, description) VALUES
    ('persist-worker', 'Persists chat messages to Postgres'),
    ('history-service', 'Serves room and thread history'),
    ('fanout-service', 'Validates and fans out chat messages'),
    ('presence-service', 'Tracks user presence'),
    ('read-receipt-service', 'Tracks read positions'),
    ('user-search-service', 'Searches users'),
    ('room-service', 'Manages rooms and membership'),
    ('translation-service', 'Translates messages'),
    ('sticker-service', 'Serves sticker catalogues'),
    ('app-registry-service', 'Lists and installs room apps'),
    ('poll-service', 'Poll app backend'),
    ('whiteboard-service', 'Whiteboard app backend'),
    ('kb-service', 'Knowledge base app backend')
ON CONFLICT DO NOTHING;
