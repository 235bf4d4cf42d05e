package dev.quarry.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.quarry.connectors.parquet.ParquetFiles;
import dev.quarry.jobs.cli.BulkScoreCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Start-up checks of bulk-score inputs (no job runs: every case fails or passes while the options are built). */
class BulkScoreInputTest {
    @TempDir
    Path tmp;

    static final Schema DOC = SchemaBuilder.record("doc").fields()
            .requiredString("doc_id").optionalString("body").requiredInt("stars").endRecord();
    static final Schema NO_ID = SchemaBuilder.record("doc").fields()
            .optionalString("body").requiredInt("stars").endRecord();

    static void write(Path file, Schema schema, int rows) throws Exception {
        Files.createDirectories(file.getParent());
        List<GenericRecord> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            GenericData.Record g = new GenericData.Record(schema);
            if (schema.getField("doc_id") != null) g.put("doc_id", file.getFileName() + "-" + i);
            g.put("body", "text " + i);
            g.put("stars", i % 5);
            out.add(g);
        }
        ParquetFiles.writeLocal(file, schema, out);
    }

    /** A model directory good enough for option parsing (the model is not loaded). */
    Path model() throws Exception {
        Path m = tmp.resolve("model");
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), "{}");
        Files.writeString(m.resolve("tokenizer.json"), "{}"); // a checkpoint directory by its files (the fake engine reads none)
        Files.writeString(m.resolve("model.safetensors"), "");
        return m;
    }

    BulkScoreJob.Options cli(Path in, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--input", in.toString(), "--output", tmp.resolve("out").toString(),
                "--task", "summarize", "--model", model().toString()));
        if (!List.of(extra).contains("--text-column")) args.addAll(List.of("--text-column", "body"));
        args.addAll(List.of(extra));
        BulkScoreCommand cmd = new BulkScoreCommand();
        new CommandLine(cmd).parseArgs(args.toArray(String[]::new));
        return cmd.options();
    }

    @Test
    void misspeltIdColumnFailsAtStartNamingTheColumnTheFileAndItsColumns() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), DOC, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cli(in, "--id-column", "doc_idd"));
        assertTrue(e.getMessage().contains("'doc_idd'") && e.getMessage().contains("part-a.parquet")
                && e.getMessage().contains("[doc_id, body, stars]"), e.getMessage());
        // the column that exists is accepted
        assertEquals("doc_id", cli(in, "--id-column", "doc_id").mapping.idField());
    }

    @Test
    void explicitIdColumnMissingFromOneFileNamesThatFile() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), DOC, 3);
        write(in.resolve("part-b.parquet"), NO_ID, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cli(in, "--id-column", "doc_id"));
        assertTrue(e.getMessage().contains("part-b.parquet") && !e.getMessage().contains("part-a.parquet")
                && e.getMessage().contains("[body, stars]"), e.getMessage());
    }

    @Test
    void withoutIdColumnFlagTheDefaultIdFallsBackToPositions() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), NO_ID, 3);
        BulkScoreJob.Options o = cli(in);
        assertEquals("id", o.mapping.idField());
        assertFalse(o.requireIdColumn, "the default id column is optional (file#row ids)");
    }

    @Test
    void aColumnWithDifferentTypesInTwoFilesIsRejectedNamingTheColumnAndBothFiles() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), DOC, 3);
        Schema starsAsText = SchemaBuilder.record("doc").fields()
                .requiredString("doc_id").optionalString("body").requiredString("stars").endRecord();
        List<GenericRecord> rows = new ArrayList<>();
        GenericData.Record g = new GenericData.Record(starsAsText);
        g.put("doc_id", "x");
        g.put("body", "b");
        g.put("stars", "five");
        rows.add(g);
        ParquetFiles.writeLocal(in.resolve("part-b.parquet"), starsAsText, rows);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cli(in));
        assertTrue(e.getMessage().contains("'stars'") && e.getMessage().contains("part-a.parquet")
                && e.getMessage().contains("part-b.parquet"), e.getMessage());
        // leaving the column out of the passthrough columns makes the files compatible
        BulkScoreJob.Options o = cli(in, "--passthrough", "doc_id");
        assertEquals(List.of("doc_id"), List.copyOf(o.inputFiles.passthrough.keySet()));
    }

    @Test
    void aFileWithoutTheTextColumnIsRejectedAtStartNamingIt() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), DOC, 3);
        Schema noText = SchemaBuilder.record("doc").fields().requiredString("doc_id").requiredInt("stars").endRecord();
        GenericData.Record g = new GenericData.Record(noText);
        g.put("doc_id", "x");
        g.put("stars", 1);
        ParquetFiles.writeLocal(in.resolve("part-b.parquet"), noText, List.of(g));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cli(in));
        assertTrue(e.getMessage().contains("part-b.parquet") && e.getMessage().contains("'body'")
                && e.getMessage().contains("[doc_id, stars]"), e.getMessage());
    }

    @Test
    void resultColumnsAreTheUnionOfTheFilesColumns() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), NO_ID, 3);
        write(in.resolve("part-b.parquet"), DOC, 3);
        BulkScoreJob.Options o = cli(in);
        List<String> cols = BulkScoreJob.resultSchema(o).avroSchema().getFields().stream().map(Schema.Field::name).toList();
        assertTrue(cols.contains("stars") && cols.contains("doc_id"), cols.toString());
        // doc_id is missing from part-a, so it is read as an optional column
        assertEquals(Schema.Type.UNION, o.inputFiles.parquetSchema().getField("doc_id").schema().getType());
    }

    /** An Arrow IPC file with the columns doc_id, body. */
    static void writeArrow(Path file, int rows) throws Exception {
        Files.createDirectories(file.getParent());
        var schema = new org.apache.arrow.vector.types.pojo.Schema(List.of(
                org.apache.arrow.vector.types.pojo.Field.nullable("doc_id", org.apache.arrow.vector.types.pojo.ArrowType.Utf8.INSTANCE),
                org.apache.arrow.vector.types.pojo.Field.nullable("body", org.apache.arrow.vector.types.pojo.ArrowType.Utf8.INSTANCE)));
        try (var alloc = new org.apache.arrow.memory.RootAllocator();
                var root = org.apache.arrow.vector.VectorSchemaRoot.create(schema, alloc);
                var os = Files.newOutputStream(file);
                var w = new org.apache.arrow.vector.ipc.ArrowFileWriter(root, null, java.nio.channels.Channels.newChannel(os))) {
            w.start();
            root.allocateNew();
            for (int i = 0; i < rows; i++) {
                ((org.apache.arrow.vector.VarCharVector) root.getVector("doc_id")).setSafe(i, ("a" + i).getBytes());
                ((org.apache.arrow.vector.VarCharVector) root.getVector("body")).setSafe(i, ("text " + i).getBytes());
            }
            root.setRowCount(rows);
            w.writeBatch();
            w.end();
        }
    }

    @Test
    void formatIsGuessedFromUpperCaseExtensions() throws Exception {
        Path arrowDir = tmp.resolve("arrow");
        writeArrow(arrowDir.resolve("DOCS.ARROW"), 4);
        BulkScoreJob.Options a = cli(arrowDir);
        assertEquals(BulkScoreJob.Format.ARROW, a.inputFormat);
        assertEquals(4, BulkScoreJob.countRows(a));
        Path parquetDir = tmp.resolve("parquet");
        write(parquetDir.resolve("DATA.PARQUET"), DOC, 3);
        assertEquals(BulkScoreJob.Format.PARQUET, cli(parquetDir).inputFormat);
    }

    @Test
    void mixedArrowAndParquetFilesAreRejectedNamingAFileOfEach() throws Exception {
        Path in = tmp.resolve("in");
        writeArrow(in.resolve("a.arrow"), 2);
        write(in.resolve("b.parquet"), DOC, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cli(in));
        assertTrue(e.getMessage().contains("a.arrow") && e.getMessage().contains("b.parquet") && e.getMessage().contains("mixes"), e.getMessage());
        // the first file sorted is Parquet here: still refused (the guess looks at every file)
        Path in2 = tmp.resolve("in2");
        write(in2.resolve("a.parquet"), DOC, 2);
        writeArrow(in2.resolve("b.feather"), 2);
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> cli(in2));
        assertTrue(e2.getMessage().contains("a.parquet") && e2.getMessage().contains("b.feather"), e2.getMessage());
    }

    @Test
    void aTextColumnThatCannotHoldTextIsRejectedAtStartNamingTheColumnTheFileAndTheType() throws Exception {
        Path in = tmp.resolve("in");
        write(in.resolve("part-a.parquet"), DOC, 3);
        // every row would be an invalid_record: a wrong --text-column, refused before the job (was: 3 error rows, exit 0)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cli(in, "--text-column", "stars"));
        assertTrue(e.getMessage().contains("'stars'") && e.getMessage().contains("part-a.parquet") && e.getMessage().contains("int")
                && e.getMessage().contains("--text-column"), e.getMessage());
        assertEquals("doc_id", cli(in, "--text-column", "doc_id").mapping.textField());
        // binary text columns stay accepted (read as UTF-8, row by row)
        Schema binary = SchemaBuilder.record("doc").fields().requiredString("doc_id").requiredBytes("body").endRecord();
        GenericData.Record g = new GenericData.Record(binary);
        g.put("doc_id", "x");
        g.put("body", java.nio.ByteBuffer.wrap("hello".getBytes()));
        Path bin = tmp.resolve("bin");
        Files.createDirectories(bin);
        ParquetFiles.writeLocal(bin.resolve("b.parquet"), binary, List.of(g));
        assertEquals("body", cli(bin).mapping.textField());

        Path arrow = tmp.resolve("arrow");
        Files.createDirectories(arrow);
        var schema = new org.apache.arrow.vector.types.pojo.Schema(List.of(
                org.apache.arrow.vector.types.pojo.Field.nullable("body", new org.apache.arrow.vector.types.pojo.ArrowType.Int(64, true))));
        try (var alloc = new org.apache.arrow.memory.RootAllocator();
                var root = org.apache.arrow.vector.VectorSchemaRoot.create(schema, alloc);
                var os = Files.newOutputStream(arrow.resolve("n.arrow"));
                var w = new org.apache.arrow.vector.ipc.ArrowFileWriter(root, null, java.nio.channels.Channels.newChannel(os))) {
            w.start();
            root.allocateNew();
            ((org.apache.arrow.vector.BigIntVector) root.getVector("body")).setSafe(0, 7);
            root.setRowCount(1);
            w.writeBatch();
            w.end();
        }
        IllegalArgumentException a = assertThrows(IllegalArgumentException.class, () -> cli(arrow));
        assertTrue(a.getMessage().contains("'body'") && a.getMessage().contains("n.arrow") && a.getMessage().contains("Int(64"), a.getMessage());
    }
}
