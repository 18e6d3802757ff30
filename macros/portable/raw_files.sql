{#- Reading the user's raw files (var raw_data_dir) on each engine: whether
    a file exists, a relation that reads it, and its columns. Used by
    raw_table() in macros/staging. DuckDB reads files with table functions;
    Spark through a temporary view over the path (dbt-spark has no
    external_location: the shop sources are declared for lineage on both). -#}

{% macro raw_file_exists(raw_dir, path) %}
    {#- True when `path` (a file, or a glob such as dir/x/*.parquet) exists. -#}
    {{ return(adapter.dispatch('raw_file_exists', 'marketing_engine')(
        raw_dir, path)) }}
{% endmacro %}

{% macro duckdb__raw_file_exists(raw_dir, path) %}
    {%- set hits = run_query("select count(*) from glob('" ~ path ~ "')") -%}
    {{ return(hits.columns[0].values()[0] > 0) }}
{% endmacro %}

{% macro spark__raw_file_exists(raw_dir, path) %}
    {#- Spark has no glob(): raw_data_dir is listed once per dbt invocation
        (the view's name holds raw_dir and invocation_id, so a later
        invocation in the same SparkSession, as dbtRunner makes, lists the
        files anew instead of reusing a stale listing; a temporary
        view over binaryFile, which reads only names when no content is
        selected; Spark keeps the listing with the view) and `path` is
        matched against it anchored at raw_data_dir, so only the top-level
        names DuckDB's glob() accepts match: backup/customers.csv is not
        customers.csv. A missing raw_data_dir lists nothing, so it gives the
        same "not found in raw_data_dir" error as DuckDB instead of Spark's
        PATH_NOT_FOUND: the listing is the glob {raw_data_dir,<a file of the
        JVM>}, which matches at least that one file (for an absolute
        local path, as the session method reads; a relative path or one with
        a scheme such as hdfs:// is listed as it is, and Spark names it when
        it is missing). -#}
    {%- set listing = 'marketing_engine__raw_files_'
        ~ local_md5(raw_dir ~ '|' ~ invocation_id)[:12] -%}
    {%- set listed = run_query("show views like '" ~ listing ~ "'") -%}
    {%- if listed.rows | length == 0 -%}
        {%- set sentinel = always_present_file() -%}
        {%- if raw_dir.startswith('/') and sentinel.startswith('/') -%}
            {#- A glob must start at the root: /{tmp/raw,work/project/x}. -#}
            {%- set root = '/{' ~ glob_escaped(raw_dir[1:]) ~ ','
                ~ glob_escaped(sentinel[1:]) ~ '}' -%}
        {%- else -%}
            {%- set root = glob_escaped(raw_dir) -%}
        {%- endif -%}
        {%- call statement('raw_files_listing') -%}
            create or replace temporary view {{ listing }}
            using binaryFile
            options (
                path '{{ root | replace('\\', '\\\\') | replace("'", "\\'") }}',
                recursiveFileLookup 'true'
            )
        {%- endcall -%}
    {%- endif -%}
    {%- set hits = run_query(
        "select count(*) from " ~ listing ~ " where path rlike '"
        ~ (raw_path_pattern(raw_dir, path) | replace("\\", "\\\\")
            | replace("'", "\\'")) ~ "'") -%}
    {{ return(hits.columns[0].values()[0] > 0) }}
{% endmacro %}


{% macro glob_escaped(path) %}
    {#- `path` with Hadoop's glob characters escaped. -#}
    {%- set ns = namespace(text=path | replace('\\', '\\\\')) -%}
    {%- for char in ['{', '}', '[', ']', '*', '?', ','] -%}
        {%- set ns.text = ns.text | replace(char, '\\' ~ char) -%}
    {%- endfor -%}
    {{ return(ns.text) }}
{% endmacro %}


{% macro always_present_file() %}
    {#- A file that always exists where the Spark driver lists files: the
        class image of the JVM running Spark (<java.home>/lib/modules, in
        every Java 9 or newer). -#}
    {%- set home = run_query(
        "select reflect('java.lang.System', 'getProperty', 'java.home')") -%}
    {{ return(home.columns[0].values()[0] ~ '/lib/modules') }}
{% endmacro %}


{% macro raw_path_pattern(raw_dir, path) %}
    {#- A Java regex matching the qualified path Spark lists for `path`
        (a file or dir/*.parquet under raw_dir) and nothing deeper: an
        optional scheme and authority (file:, hdfs://host:port), then
        raw_dir itself (an absolute one from its start; a relative one, which
        Spark resolves against the working directory, after any parent
        directories), then exactly the file name, or one level of
        <name>/<part>.parquet. -#}
    {%- set dir = raw_dir.rstrip('/') -%}
    {%- set relative = path[(raw_dir | length):].lstrip('/') -%}
    {%- set scheme = modules.re.match('^[A-Za-z][A-Za-z0-9+.-]*:(//[^/]*)?', dir) -%}
    {%- set dir_path = dir[(scheme.group(0) | length):] if scheme else dir -%}
    {#- Spark drops ./ and resolves ../ of a relative path. -#}
    {%- set dir_path = modules.re.sub('^([.][.]?/)+', '', dir_path) -%}
    {%- set prefix = '^[^/]*(//[^/]*)?' if dir_path.startswith('/')
        else '^[^/]*(//[^/]*)?/(.*/)?' -%}
    {{ return(prefix ~ modules.re.escape(dir_path) ~ '/'
        ~ (modules.re.escape(relative) | replace('\\*', '[^/]*')) ~ '$') }}
{% endmacro %}


{% macro raw_file_reader(name, path, format) %}
    {#- A relation (as SQL text) reading `path` as parquet or csv; CSV is read
        as all text so a bad value becomes a quarantine row with a reason
        instead of failing the whole read. -#}
    {{ return(adapter.dispatch('raw_file_reader', 'marketing_engine')(
        name, path, format)) }}
{% endmacro %}

{% macro duckdb__raw_file_reader(name, path, format) %}
    {%- if format == 'parquet' -%}
        {{ return("read_parquet('" ~ path ~ "')") }}
    {%- else -%}
        {{ return("read_csv('" ~ path ~ "', header = true, "
            ~ "all_varchar = true, normalize_names = true)") }}
    {%- endif -%}
{% endmacro %}

{% macro spark__raw_file_reader(name, path, format) %}
    {#- A temporary view shop__<name> over the file(s): Spark reads a
        directory of Parquet parts by its directory path, only its *.parquet
        files (pathGlobFilter; DuckDB's glob <name>/*.parquet skips a stray
        notes.txt there too, where Spark would fail reading it). A CSV file's
        header is normalised the way DuckDB's read_csv(normalize_names)
        does it (normalized_column_name), so "Customer ID" is customer_id on
        both engines. -#}
    {%- set view = 'shop__' ~ name -%}
    {%- set location = (path | replace('/*.parquet', '')
        | replace('\\', '\\\\') | replace("'", "\\'")) -%}
    {%- set file_view = view ~ '__file' if format == 'csv' else view -%}
    {%- call statement('raw_file_view_' ~ name) -%}
        create or replace temporary view {{ file_view }}
        using {{ format }}
        options (
            path '{{ location }}'
            {%- if path.endswith('/*.parquet') %},
            pathGlobFilter '*.parquet'
            {%- endif %}
            {%- if format == 'csv' %},
            header 'true',
            inferSchema 'false',
            escape '"',
            multiLine 'true'
            {%- endif %}
        )
    {%- endcall -%}
    {%- if format == 'csv' -%}
        {%- set described = run_query("describe query select * from " ~ file_view) -%}
        {%- set taken = [] -%}
        {%- set columns = [] -%}
        {%- for row in described.rows -%}
            {%- set base = normalized_column_name(row[0]) -%}
            {%- set ns = namespace(alias=base, suffix=0) -%}
            {%- for _ in range(described.rows | length) -%}
                {%- if ns.alias in taken -%}
                    {%- set ns.suffix = ns.suffix + 1 -%}
                    {%- set ns.alias = base ~ '_' ~ ns.suffix -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do taken.append(ns.alias) -%}
            {%- do columns.append('`' ~ (row[0] | replace('`', '``')) ~ '` as `'
                ~ ns.alias ~ '`') -%}
        {%- endfor -%}
        {%- call statement('raw_file_names_' ~ name) -%}
            create or replace temporary view {{ view }} as
            select {{ columns | join(', ') }} from {{ file_view }}
        {%- endcall -%}
    {%- endif -%}
    {{ return(view) }}
{% endmacro %}


{% macro normalized_column_name(name) %}
    {#- DuckDB's read_csv(normalize_names = true) rule for a header, for the
        engines that lack it: Latin letters lose their accents, only ASCII
        letters, digits, _ and whitespace are kept, the words are joined by
        _, an empty name is _, a leading digit gets a _ prefix, and the name
        is lower case ("  Customer ID" -> customer_id, "Order.Total" ->
        ordertotal). DuckDB also prefixes its SQL keywords with _ ("name" ->
        _name); no raw contract column is one (tests/unit/test_raw_contract.py),
        so a keyword header is an unused column on every engine. -#}
    {%- set accented = 'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľĿŀŃńŅņŇňŉŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžſƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ' -%}
    {%- set plain = 'AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlLlNnNnNnnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzsOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy' -%}
    {%- set ns = namespace(text='') -%}
    {%- for char in name -%}
        {%- set at = accented.find(char) -%}
        {%- set char = plain[at] if at >= 0 else char -%}
        {%- if modules.re.match('[A-Za-z0-9_]', char) -%}
            {%- set ns.text = ns.text ~ char -%}
        {%- elif char.isspace() -%}
            {%- set ns.text = ns.text ~ ' ' -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set joined = ns.text.split() | join('_') or '_' -%}
    {%- if joined[0] in '0123456789' -%}{%- set joined = '_' ~ joined -%}{%- endif -%}
    {{ return(joined | lower) }}
{% endmacro %}


{% macro raw_file_columns(reader) %}
    {#- {lowercase column name: DuckDB type name} of the relation `reader`.
        Spark's type names are translated to DuckDB's (string -> VARCHAR,
        int -> INTEGER, ...) so the staging rules read one vocabulary. -#}
    {{ return(adapter.dispatch('raw_file_columns', 'marketing_engine')(reader)) }}
{% endmacro %}

{% macro duckdb__raw_file_columns(reader) %}
    {%- set described = run_query(
        "select lower(column_name), column_type from (describe select * from "
        ~ reader ~ ")") -%}
    {%- set present = {} -%}
    {%- for row in described.rows -%}
        {%- do present.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {{ return(present) }}
{% endmacro %}

{% macro spark__raw_file_columns(reader) %}
    {%- set names = {'string': 'VARCHAR', 'int': 'INTEGER', 'integer': 'INTEGER',
        'bigint': 'BIGINT', 'smallint': 'SMALLINT', 'tinyint': 'TINYINT',
        'double': 'DOUBLE', 'float': 'FLOAT', 'boolean': 'BOOLEAN',
        'date': 'DATE', 'timestamp': 'TIMESTAMP', 'timestamp_ntz': 'TIMESTAMP'} -%}
    {%- set described = run_query("describe query select * from " ~ reader) -%}
    {%- set present = {} -%}
    {%- for row in described.rows -%}
        {%- set type = row[1] | lower -%}
        {%- do present.update({row[0] | lower:
            names.get(type, type | upper | replace(' ', ''))}) -%}
    {%- endfor -%}
    {{ return(present) }}
{% endmacro %}


{% macro source_reads_files() %}
    {#- True when a shop source relation reads its file itself (dbt-duckdb's
        meta.external_location); otherwise raw_table() reads the file through
        raw_file_reader() and the source is declared for lineage only. -#}
    {{ return(adapter.dispatch('source_reads_files', 'marketing_engine')()) }}
{% endmacro %}

{% macro duckdb__source_reads_files() %}
    {{ return(true) }}
{% endmacro %}

{% macro spark__source_reads_files() %}
    {{ return(false) }}
{% endmacro %}
