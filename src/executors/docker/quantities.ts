/**
 * Resource quantities ("512Mi", "500m", Docker's "256m") in bytes and nano-CPUs, as the Docker Engine API
 * wants them. One definition for every executor and for teams' executor policies: it lives in the domain
 * (domain/quantities.ts), so the check at dispatch and the limit a container gets never disagree.
 */
export { formatBytes, parseMemoryBytes, parseNanoCpus } from "../../domain";
