{% test columns_match_contract(model) %}
    {#- dbt enforces contracts on SQL models only. For a Python mart this is the
        same check as a test: the built table has exactly the columns its YAML
        declares, each with the declared data_type. One row per difference,
        naming the column, both types and the fix; a failure stops `dbt build`
        (and so the publish) like a broken contract. -#}
    {{ config(meta={'explain':
        '{failures} column(s) differ from the YAML contract (name or data_type):'
        ~ ' the Python model output changed shape. Fix: cast the column in the'
        ~ ' model, or correct data_type in its YAML; `dbt test -s {model}` lists'
        ~ ' each column with the declared and the built type.'}) }}
    {%- set aliases = {
        'int': 'integer', 'int4': 'integer', 'int8': 'bigint', 'long': 'bigint',
        'float8': 'double', 'float4': 'float', 'real': 'float',
        'text': 'varchar', 'string': 'varchar', 'bool': 'boolean',
        'numeric': 'decimal', 'timestamptz': 'timestampwithtimezone',
        'datetime': 'timestamp'
    } -%}
    {%- set problems = [] -%}
    {%- if execute -%}
        {%- set nodes = graph.nodes.values()
            | selectattr('resource_type', 'equalto', 'model')
            | selectattr('alias', 'equalto', model.identifier)
            | list -%}
        {%- set declared = {} -%}
        {%- for column in (nodes[0]['columns'].values() if nodes else []) -%}
            {%- do declared.update({column['name'] | lower: column['data_type']}) -%}
        {%- endfor -%}
        {%- set actual = {} -%}
        {%- for column in adapter.get_columns_in_relation(model) -%}
            {%- do actual.update({column.name | lower: column.dtype}) -%}
        {%- endfor -%}
        {%- if not declared -%}
            {%- do problems.append(['(none)', '', '',
                'no columns declared: list every column with its data_type']) -%}
        {%- endif -%}
        {%- for name, wanted in declared.items() -%}
            {%- if name not in actual -%}
                {%- do problems.append([name, wanted or '', '',
                    'declared in the YAML but missing from the table']) -%}
            {%- elif not wanted -%}
                {%- do problems.append([name, '', actual[name],
                    'no data_type declared: add data_type: ' ~ actual[name] | lower]) -%}
            {%- else -%}
                {%- set ns = namespace(types=[]) -%}
                {%- for raw in [wanted, actual[name]] -%}
                    {%- set text = raw | lower | replace(' ', '') -%}
                    {%- set base = text.split('(')[0] -%}
                    {%- set rest = text[base | length:] -%}
                    {%- set ns.types = ns.types + [aliases.get(base, base) ~ rest] -%}
                {%- endfor -%}
                {%- if ns.types[0] != ns.types[1] -%}
                    {%- do problems.append([name, wanted, actual[name],
                        'type drifted: cast it in the model or change the YAML']) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name in actual if name not in declared -%}
            {%- do problems.append([name, '', actual[name],
                'in the table but not declared in the YAML']) -%}
        {%- endfor -%}
    {%- endif %}
    {%- if problems %}
        select * from (
            values
            {%- for row in problems %}
                (
                    '{{ row[0] }}', '{{ row[1] }}', '{{ row[2] }}',
                    '{{ row[3] | replace("'", "''") }}'
                ){{ "," if not loop.last }}
            {%- endfor %}
        ) as differences (column_name, declared_type, actual_type, problem)
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as column_name,
            cast(null as {{ dbt.type_string() }}) as declared_type,
            cast(null as {{ dbt.type_string() }}) as actual_type,
            cast(null as {{ dbt.type_string() }}) as problem
        where 1 = 0
    {%- endif %}
{% endtest %}
