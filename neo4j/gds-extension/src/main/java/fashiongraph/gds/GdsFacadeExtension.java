package fashiongraph.gds;

import java.util.Optional;

import org.neo4j.configuration.Config;
import org.neo4j.gds.LicensingBusinessFacade;
import org.neo4j.gds.OpenGdsLicensingServiceBuilder;
import org.neo4j.gds.SysInfoProcFacade;
import org.neo4j.gds.applications.operations.FeatureTogglesRepository;
import org.neo4j.gds.core.model.ModelCatalog;
import org.neo4j.gds.core.model.OpenModelCatalogProvider;
import org.neo4j.gds.core.write.NativeExportBuildersProvider;
import org.neo4j.gds.logging.Log;
import org.neo4j.gds.metrics.Metrics;
import org.neo4j.gds.procedures.integration.DefaultExportLocation;
import org.neo4j.gds.procedures.integration.LogAccessor;
import org.neo4j.gds.procedures.integration.OpenGraphDataScienceExtensionBuilder;
import org.neo4j.kernel.api.procedure.GlobalProcedures;
import org.neo4j.kernel.extension.ExtensionFactory;
import org.neo4j.kernel.extension.context.ExtensionContext;
import org.neo4j.kernel.lifecycle.Lifecycle;
import org.neo4j.logging.internal.LogService;

/**
 * Registers the Graph Data Science procedure facade with Neo4j, so that the GDS procedures
 * resolved from Maven Central (org.neo4j.gds:proc) can be loaded from the plugins folder.
 *
 * <p>It makes the choices of the open-source GDS edition: native writes only, no metrics, the
 * in-memory model catalogue and no model persistence. fashiongraph uses projections, random
 * walks, FastRP and KNN; nothing here limits those.
 */
public final class GdsFacadeExtension extends ExtensionFactory<GdsFacadeExtension.Dependencies> {

    /** What Neo4j hands the extension (resolved by return type). */
    public interface Dependencies {
        Config config();

        GlobalProcedures globalProcedures();

        LogService logService();
    }

    public GdsFacadeExtension() {
        super("fashiongraph.gds");
    }

    @Override
    public Lifecycle newInstance(ExtensionContext context, Dependencies dependencies) {
        Log log = new LogAccessor().getLog(dependencies.logService(), GdsFacadeExtension.class);
        Config config = dependencies.config();
        ModelCatalog models = new OpenModelCatalogProvider().get().orElseThrow();

        var built = OpenGraphDataScienceExtensionBuilder.create(
            log,
            dependencies.globalProcedures(),
            config,
            (database, configuration) -> new NativeExportBuildersProvider(),
            new DefaultExportLocation(log, config),
            new FeatureTogglesRepository(),
            Metrics.DISABLED,
            models,
            model -> {
                throw new UnsupportedOperationException(
                    "storing GDS models needs the GDS Enterprise Edition");
            },
            Optional.empty(),
            Optional.empty(),
            Optional.empty()
        );

        // gds.version() and gds.license.state() read the (open) licence through this facade.
        var licensing = new LicensingBusinessFacade(new OpenGdsLicensingServiceBuilder().build(config));
        dependencies.globalProcedures().registerComponent(
            SysInfoProcFacade.class, procedureContext -> new SysInfoProcFacade(licensing), true);

        log.info("fashiongraph: Graph Data Science procedure facade registered");
        return built.getLeft().build();
    }
}
