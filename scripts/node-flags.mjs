// Node flags the projector and the API run with, wherever they are started (scripts/start.mjs, the benchmark,
// docker-compose.yml spells the same). A batch's decoded events live until it commits; a young
// generation of 64 MB lets most of them die there instead of being promoted and marked: a full rebuild
// of the traffic projection went from 11.1 to 13.7M events/min with it (npm run bench -- --quick).
export const PROJECTOR_NODE_FLAGS = ['--max-semi-space-size=64'];

// The API holds each request's parsed events until JetStream has acknowledged their messages: with the
// default young generation, 16 requests in flight got promoted and marked. At 3M/min garbage collection
// took 9.0% of the API's CPU with the default, 5.0% with 32 MB (V8 CPU profiles, npm run bench -- --quick
// --steps 3 --profile, one run each).
export const API_NODE_FLAGS = ['--max-semi-space-size=32'];
