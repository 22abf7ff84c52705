/** The local Redis Cluster lives in src/platform/dev-infra-redis-cluster.ts (`npm run test:redis-cluster` starts one too). */
export { startRedisCluster, type RedisClusterNodes } from "../../../src/platform/dev-infra-redis-cluster.ts";
