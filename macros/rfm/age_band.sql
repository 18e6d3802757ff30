{% macro age_band(age_years) %}
    {#- Marketing age bands; null age is 'Unknown'. -#}
    case
        when {{ age_years }} is null then 'Unknown'
        when {{ age_years }} < 25 then '18-24'
        when {{ age_years }} < 35 then '25-34'
        when {{ age_years }} < 45 then '35-44'
        when {{ age_years }} < 55 then '45-54'
        when {{ age_years }} < 65 then '55-64'
        else '65+'
    end
{% endmacro %}
