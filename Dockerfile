# Multi-stage build: compile with the Maven wrapper on a JDK, run on a JRE as a non-root user.
# docker build -t riscv-relay .
# docker run -d -p 4433:4433/udp --name relay riscv-relay     (no capabilities needed)
FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
COPY .mvn .mvn
COPY mvnw pom.xml ./
RUN ./mvnw -q -B -ntp dependency:go-offline
COPY src src
RUN ./mvnw -q -B -ntp -DskipTests package

FROM eclipse-temurin:25-jre
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin relay
COPY --from=build /src/target/riscv-relay.jar /opt/riscv-relay/riscv-relay.jar
USER 10001
EXPOSE 4433/udp
# Direct memory bounds frame buffers and the TCP data held for VMs (a quarter of it); give the container more than this.
# Transparent huge pages for the heap and the compiled code (README, "Latency at rest"); where the host's kernel has
# them off, the JVM warns once and runs without.
ENTRYPOINT ["java", "--enable-native-access=ALL-UNNAMED", "-XX:MaxDirectMemorySize=2g", "-XX:+UseTransparentHugePages", "-jar", "/opt/riscv-relay/riscv-relay.jar"]
