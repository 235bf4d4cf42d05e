package dev.quarry.jobs;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module rules of the team brief, checked on the production classes of every module (imported from
 * the jobs test classpath, which holds all of them): the engine knows no Flink and no other Quarry module;
 * connectors know no engine; operators know no connectors or jobs; nobody outside the engine reaches into
 * {@code dev.quarry.engine.internal}.
 */
class ModuleArchitectureTest {
    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("dev.quarry");
    }

    @Test
    void allModulesAreImported() {
        for (String pkg : new String[] {"dev.quarry.engine", "dev.quarry.connectors", "dev.quarry.jobs"}) {
            assertTrue(classes.stream().anyMatch(c -> c.getPackageName().startsWith(pkg)), "no classes of " + pkg);
        }
    }

    @Test
    void engineDependsOnNoFlinkAndNoOtherModule() {
        noClasses().that().resideInAPackage("dev.quarry.engine..")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.flink..", "dev.quarry.operators..",
                        "dev.quarry.connectors..", "dev.quarry.jobs..")
                .check(classes);
    }

    @Test
    void connectorsDependOnNoEngineOperatorsOrJobs() {
        noClasses().that().resideInAPackage("dev.quarry.connectors..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.quarry.engine..", "dev.quarry.operators..",
                        "dev.quarry.jobs..")
                .check(classes);
    }

    @Test
    void operatorsDependOnNoConnectorsOrJobs() {
        noClasses().that().resideInAPackage("dev.quarry.operators..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.quarry.connectors..", "dev.quarry.jobs..")
                .allowEmptyShould(true)
                .check(classes);
    }

    @Test
    void operatorInternalsAreUsedOnlyInsideTheOperators() {
        noClasses().that().resideOutsideOfPackage("dev.quarry.operators..")
                .should().dependOnClassesThat().resideInAPackage("dev.quarry.operators.internal..")
                .check(classes);
    }

    @Test
    void engineInternalsAreUsedOnlyInsideTheEngine() {
        noClasses().that().resideOutsideOfPackage("dev.quarry.engine..")
                .should().dependOnClassesThat().resideInAPackage("dev.quarry.engine.internal..")
                .check(classes);
    }

    @Test
    void enginePomHasNoFlinkDependency() throws Exception {
        Path pom = Path.of("..", "engine", "pom.xml");
        assertTrue(Files.isRegularFile(pom), "engine pom not found from " + Path.of("").toAbsolutePath());
        assertFalse(Files.readString(pom).contains("org.apache.flink"), "engine/pom.xml must not depend on Flink");
    }
}
