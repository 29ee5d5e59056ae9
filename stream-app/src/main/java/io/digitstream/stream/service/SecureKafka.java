package io.digitstream.stream.service;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;

/**
 * A secured embedded Kafka: a SASL_SSL listener (SCRAM-SHA-512 over TLS) with the StandardAuthorizer,
 * so only users with ACLs get anywhere. Its TLS key and certificate are made at run time with the
 * JDK's keytool into {@code dir} (never committed); {@code admin} is the super user. See
 * docs/security.md for the settings clients need and the app's minimal ACLs.
 *
 * @param dir           where the key store, the trust store and the passwords live
 * @param adminPassword the super user's password
 * @param storePassword the key and trust stores' password
 */
public record SecureKafka(Path dir, String adminPassword, String storePassword) {

    public static final String ADMIN = "admin";
    public static final String MECHANISM = "SCRAM-SHA-512";
    private static final String KEYSTORE = "broker.p12";
    private static final String TRUSTSTORE = "truststore.p12";
    private static final String PASSWORDS = "passwords.properties";
    private static final long KEYTOOL_TIMEOUT_SECONDS = 60;

    /**
     * The TLS material and passwords in {@code dir}, made on first use: a key pair for
     * {@code localhost} / 127.0.0.1 and a trust store holding its certificate.
     */
    public static SecureKafka in(final Path dir) {
        try {
            Files.createDirectories(dir);
            final Path passwords = dir.resolve(PASSWORDS);
            final Properties kept = new Properties();
            if (Files.exists(passwords) && Files.exists(dir.resolve(KEYSTORE))
                    && Files.exists(dir.resolve(TRUSTSTORE))) {
                try (var in = Files.newInputStream(passwords)) {
                    kept.load(in);
                }
                return new SecureKafka(dir, kept.getProperty("admin"), kept.getProperty("stores"));
            }
            final SecureKafka made = new SecureKafka(dir, secret(), secret());
            Files.deleteIfExists(dir.resolve(KEYSTORE));
            Files.deleteIfExists(dir.resolve(TRUSTSTORE));
            made.keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048",
                    "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "365",
                    "-keystore", dir.resolve(KEYSTORE).toString(), "-storetype", "PKCS12",
                    "-storepass", made.storePassword, "-keypass", made.storePassword);
            final Path certificate = dir.resolve("broker.pem");
            made.keytool("-exportcert", "-alias", "broker", "-rfc", "-file", certificate.toString(),
                    "-keystore", dir.resolve(KEYSTORE).toString(), "-storepass", made.storePassword);
            made.keytool("-importcert", "-noprompt", "-alias", "broker", "-file", certificate.toString(),
                    "-keystore", dir.resolve(TRUSTSTORE).toString(), "-storetype", "PKCS12",
                    "-storepass", made.storePassword);
            kept.setProperty("admin", made.adminPassword);
            kept.setProperty("stores", made.storePassword);
            try (var out = Files.newOutputStream(passwords)) {
                kept.store(out, "passwords of the secured embedded Kafka; made at run time, never commit");
            }
            return made;
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot prepare TLS material in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The broker settings over a node's plain ones: SASL_SSL for clients, TLS between the nodes' controllers. */
    Properties brokerConfig(final Properties plain, final int brokerPort, final int controllerPort) {
        final Properties props = new Properties();
        props.putAll(plain);
        props.put("listeners", "SASL_SSL://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        props.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + brokerPort);
        props.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SSL");
        props.put("inter.broker.listener.name", "SASL_SSL");
        props.put("sasl.enabled.mechanisms", MECHANISM);
        props.put("sasl.mechanism.inter.broker.protocol", MECHANISM);
        props.put("listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", jaas(ADMIN, adminPassword));
        props.put("ssl.keystore.location", dir.resolve(KEYSTORE).toString());
        props.put("ssl.keystore.type", "PKCS12");
        props.put("ssl.keystore.password", storePassword);
        props.put("ssl.key.password", storePassword);
        props.put("ssl.truststore.location", dir.resolve(TRUSTSTORE).toString());
        props.put("ssl.truststore.type", "PKCS12");
        props.put("ssl.truststore.password", storePassword);
        props.put("listener.name.controller.ssl.client.auth", "required");
        props.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        // The node's own controller connection authenticates with its certificate: a super user too.
        props.put("super.users", "User:" + ADMIN + ";User:CN=localhost");
        return props;
    }

    /** The arguments that make the storage tool format with the admin user's SCRAM credential. */
    List<String> formatArguments() {
        return List.of("--add-scram", MECHANISM + "=[name=" + ADMIN + ",password=" + adminPassword + "]");
    }

    /** The client settings of {@code user}: SASL_SSL, SCRAM-SHA-512, trusting the broker's certificate. */
    public Map<String, Object> clientConfig(final String user, final String password) {
        final Map<String, Object> config = new HashMap<>();
        config.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL");
        config.put(SaslConfigs.SASL_MECHANISM, MECHANISM);
        config.put(SaslConfigs.SASL_JAAS_CONFIG, jaas(user, password));
        config.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, dir.resolve(TRUSTSTORE).toString());
        config.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PKCS12");
        config.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, storePassword);
        return config;
    }

    /** The password of {@code user}, made on first ask and kept beside the TLS material. */
    public String password(final String user) {
        if (ADMIN.equals(user)) {
            return adminPassword;
        }
        final Path file = dir.resolve(PASSWORDS);
        try {
            final Properties kept = new Properties();
            try (var in = Files.newInputStream(file)) {
                kept.load(in);
            }
            final String key = "user." + user;
            if (kept.getProperty(key) == null) {
                kept.setProperty(key, secret());
                try (var out = Files.newOutputStream(file)) {
                    kept.store(out, "passwords of the secured embedded Kafka; made at run time, never commit");
                }
            }
            return kept.getProperty(key);
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot keep the password of " + user + " in " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /** Writes {@code user}'s client settings as a properties file for --client-config; returns it. */
    public Path clientConfigFile(final String user) {
        final Path file = dir.resolve(user + ".properties");
        final Properties props = new Properties();
        clientConfig(user, password(user)).forEach((key, value) -> props.setProperty(key, value.toString()));
        try (var out = Files.newOutputStream(file)) {
            props.store(out, "Kafka client settings of " + user + " on the secured embedded broker");
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** The super user's client settings, for setting up users and ACLs. */
    public Map<String, Object> adminConfig() {
        return clientConfig(ADMIN, adminPassword);
    }

    /** Creates or updates {@code user} with {@code password} and grants it {@code acls}, as the super user. */
    public void grant(final String bootstrapServers, final String user, final String password,
            final List<AclBinding> acls) {
        final Map<String, Object> config = new HashMap<>(adminConfig());
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        try (Admin admin = Admin.create(config)) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(user,
                    new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), password)))
                    .all().get(60, TimeUnit.SECONDS);
            if (!acls.isEmpty()) {
                admin.createAcls(acls).all().get(60, TimeUnit.SECONDS);
            }
        } catch (final Exception e) {
            throw new IllegalStateException("cannot set up Kafka user " + user + ": " + e.getMessage(), e);
        }
    }

    static String jaas(final String user, final String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user
                + "\" password=\"" + password + "\";";
    }

    private static String secret() {
        final byte[] bytes = new byte[18];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private void keytool(final String... args) throws IOException {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("keytool " + args[0] + " failed: " + output.strip());
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while running keytool", e);
        }
    }
}
