// Node flags the projector runs with, wherever it is started (scripts/start.mjs, the benchmark,
// docker-compose.yml spells the same). A batch's decoded events live until it commits; a young
// generation of 64 MB lets most of them die there instead of being promoted and marked: a full rebuild
// of the traffic projection went from 11.1 to 13.7M events/min with it (npm run bench -- --quick).
export const PROJECTOR_NODE_FLAGS = ['--max-semi-space-size=64'];
