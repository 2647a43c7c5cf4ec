-- mixed.lua: all four user types of the guide in one test, as weighted user classes.
--
-- Each virtual user is one of (weight = share of the virtual users):
--   smoke    (1): FlyAppSmokeUser            GET /health x3, GET /;            wait 1-3 s
--   api      (3): FlyAuthenticatedApiUser    login, projects, metrics, me;     wait 1-2 s
--   ingest   (3): FlyEventIngestionUser      POST /api/v1/events/ingest;       wait 0.2-1.0 s
--   uploader (1): FlyUploadWorkflowUser      login, presign, list uploads;     wait 1-3 s
-- With -u 20 that is about 2-3 smoke users, 7-8 API users, 7-8 ingest clients and 2-3 uploaders.
-- Each class comes from its own script next to this one (`require` looks in the script's folder);
-- only the weights are set here. The credentials and tokens are the fixed test ones of `luaload serve`
-- (Sources/LuaLoadServe/README.md); against the built-in server every request should succeed.
--
-- Run:
--   luaload --serve -u 20 -d 10s scripts/mixed.lua

require("smoke").weight = 1
require("auth_api").weight = 3
require("event_ingest").weight = 3
require("upload_presign").weight = 1
