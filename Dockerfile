# One build, two images: docker build --target trainer . / docker build --target stream-app .
# Runtime images are Debian: ND4J's native libraries crash on Alpine (musl).

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
COPY schemas schemas
COPY model model
COPY releases releases
COPY trainer trainer
COPY stream-app stream-app
# The benchmarks module is not built into any image; Maven only needs its pom to read the project.
COPY benchmarks/pom.xml benchmarks/pom.xml
RUN mvn -B -ntp -DskipTests -pl trainer,stream-app -am package

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# Keep ND4J's off-heap memory under the container limit (docker-compose.yml gives 3 GB):
# JavaCPP would otherwise let it grow to several times the heap.
ENV JAVA_TOOL_OPTIONS="-Xmx1g -Djava.awt.headless=true -Dorg.bytedeco.javacpp.maxbytes=1200m -Dorg.bytedeco.javacpp.maxphysicalbytes=2600m -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp"
WORKDIR /app

FROM runtime AS trainer
COPY --from=build /src/trainer/target/trainer.jar /app/trainer.jar
COPY --from=build /src/trainer/target/lib /app/lib
COPY deploy/train-once.sh /app/train-once.sh
ENTRYPOINT ["/app/train-once.sh"]

FROM runtime AS stream-app
COPY --from=build /src/stream-app/target/stream-app.jar /app/stream-app.jar
COPY --from=build /src/stream-app/target/lib /app/lib
# One OpenMP thread per network: the app runs a network copy per core. G1, named since the JVM picks
# the serial GC in a small container: it collects the old generation in short pauses. glibc keeps
# freed native memory instead of unmapping it, so forward passes do not fault their scratch memory
# in again (docs/benchmarks.md). The HTTP port listens on every interface, as a published port must.
ENV OMP_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456 DIGITS_HTTP_HOST=0.0.0.0
EXPOSE 8080
ENTRYPOINT ["java", "-XX:+UseG1GC", "-jar", "/app/stream-app.jar"]
